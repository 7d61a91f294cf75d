// issue 12, point 4: the daemon's processing thread processes just-staged records several to one
// SQLite transaction (process-queue.ts), with the results one transaction per mail gives: a reply
// finds the issue its original opened earlier in the same batch, a mail whose workflow fails is
// `error` alone, confirmations go out once the batch has committed. SQLite only (the queue batches
// nothing on PostgreSQL), so this file is not in the postgres project.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../src/cli/context.js";
import type { Deps } from "../src/pipeline/deps.js";
import { processStaged, readSettings } from "../src/pipeline/ingest.js";
import { readRaw } from "../src/pipeline/read-raw.js";
import { stageRaw } from "../src/pipeline/stage.js";
import { ProcessQueue, type Task } from "../src/serve/process-queue.js";
import type { Db } from "../src/store/store.js";
import { db, injectFault, mail, rows } from "./helpers/cli.js";
import { configured } from "./helpers/setup.js";

const withConfirmations = (dir: string) => ({
  defaultRoute: { kind: "ticket", queue: "general", sendResponse: true },
  outbound: { transport: "file", dir: join(dir, "outbox"), from: "service@example.test" },
});

/** Ten mails: an original and its reply, one whose workflow fails (a trigger), seven others. */
const mails = () => [
  mail({ From: "Ada <ada@customer.test>", To: "service@example.test", Subject: "Printer on fire", "Message-ID": "<original@customer.test>" }),
  // The issue's reference, as a customer quotes it from the confirmation: the issue is only a few
  // statements old, in the same open transaction.
  mail({ From: "Ada <ada@customer.test>", To: "service@example.test", Subject: "Re: [CS-000001] Printer on fire", "In-Reply-To": "<original@customer.test>" }),
  mail({ From: "Bob <bob@customer.test>", To: "service@example.test", Subject: "poison" }),
  ...Array.from({ length: 7 }, (_, i) => mail({ From: `C${i} <c${i}@customer.test>`, To: "service@example.test", Subject: `Question ${i}` })),
];

/** The store's top-level write transactions, counted (savepoints inside them are not). */
function countingWrites(deps: Deps): { deps: Deps; writes: () => number } {
  let n = 0;
  const store = deps.db;
  const db = new Proxy(store, {
    get(target, key) {
      if (key === "write") return (fn: (tx: Db) => Promise<unknown>, o?: object) => (n++, target.write(fn, o));
      const v = Reflect.get(target, key) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { deps: { ...deps, db }, writes: () => n };
}

async function run(batch: number, yieldWhen?: () => boolean) {
  const sb = configured(withConfirmations);
  const h = db(sb);
  injectFault(h, { name: "poison", table: "issues", on: "INSERT", when: "NEW.subject = 'poison'", message: "poisoned" });
  h.close();
  const opened = await makeDeps({ db: sb.db, config: sb.env.INGEST_MAIL_CONFIG }, sb.env);
  const tasks: Task[] = [];
  for (const m of mails()) {
    const raw = await readRaw([Buffer.from(m)], readSettings(opened, { durable: true }));
    const staged = await stageRaw(opened, { raw, envelope: { recipient: "service@example.test", sender: null }, source: "lmtp" });
    tasks.push({ id: staged.stagedId, staged });
  }
  const { deps, writes } = countingWrites(opened);
  const lines: string[] = [];
  const queue = new ProcessQueue(deps, { capacity: 100, sliceMs: 10_000, batch, yieldWhen }, (l) => lines.push(l));
  for (const t of tasks) queue.push(t);
  await queue.whenIdle();
  await opened.store.close();
  const h2 = db(sb);
  try {
    return {
      writes: writes(),
      lines,
      staged: rows(h2, "SELECT id, status, subject, error IS NOT NULL AS failed FROM staged_mails ORDER BY id"),
      issues: rows(h2, "SELECT reference, subject, state FROM issues ORDER BY id"),
      actions: rows(h2, "SELECT a.issue_id AS issue, s.subject FROM actions a JOIN interactions i ON i.id = a.interaction_id JOIN staged_mails s ON s.id = i.staged_mail_id ORDER BY a.id"),
      confirmations: readdirSync(join(sb.dir, "outbox")).length,
    };
  } finally {
    h2.close();
  }
}

describe("processing several staged records in one transaction (serve)", () => {
  it("gives the results of one transaction per mail, in far fewer transactions", async () => {
    const one = await run(1);
    const eight = await run(8);
    // One write transaction per mail (and one more to record the poisoned one's error), against
    // one per batch of up to eight.
    expect(one.writes).toBe(11);
    expect(eight.writes).toBe(2);
    expect(eight.staged).toEqual(one.staged);
    expect(eight.issues).toEqual(one.issues);
    expect(eight.actions).toEqual(one.actions);
    expect(eight.confirmations).toBe(one.confirmations);
    // The reply, in the same batch as its original, is on the original's issue.
    const statuses = eight.staged.map((s) => s.status);
    expect(statuses).toEqual(["complete", "complete", "error", ...Array(7).fill("complete")]);
    expect(eight.issues.map((i) => i.subject)).not.toContain("Re: [CS-000001] Printer on fire");
    expect(eight.actions.filter((a) => /Printer on fire/.test(String(a.subject))).map((a) => a.issue)).toEqual([1, 1]);
    // A confirmation for each new issue (the reply opens none; the poisoned mail recorded nothing).
    expect(eight.confirmations).toBe(8);
    expect(eight.lines.filter((l) => /^processed staged=/.test(l))).toHaveLength(10);
  });

  it("a batch commits early when staging waits for the database, and goes on in a new transaction, with the same results", async () => {
    const alone = await run(1);
    let asked = 0;
    // Staging waits once, while the third mail of the first batch is processed.
    const early = await run(8, () => ++asked === 3);
    // The first batch in two transactions (three mails, then five), the second in one.
    expect(early.writes).toBe(3);
    expect(early.staged).toEqual(alone.staged);
    expect(early.issues).toEqual(alone.issues);
    expect(early.actions).toEqual(alone.actions);
    expect(early.confirmations).toBe(alone.confirmations);
    expect(early.lines.filter((l) => /^processed staged=/.test(l))).toHaveLength(10);
  });

  it("a parse that failed before the batch's transaction is recorded as error with its reason", async () => {
    const sb = configured();
    const deps = await makeDeps({ db: sb.db, config: sb.env.INGEST_MAIL_CONFIG }, sb.env);
    try {
      const raw = await readRaw([Buffer.from(mails()[3])], readSettings(deps, { durable: true }));
      const staged = await stageRaw(deps, { raw, envelope: { recipient: "service@example.test", sender: null }, source: "lmtp" });
      if (staged.kind !== "staged") throw new Error(staged.kind);
      const out = await processStaged(deps, staged.stagedId, { claim: staged.claim, parseFailure: new Error("parse budget of 10 s exceeded") });
      expect(out.status).toBe("error");
      expect(out.error).toMatch(/parse budget of 10 s exceeded/);
    } finally {
      await deps.store.close();
    }
  });
});
