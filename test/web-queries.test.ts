// The console's list queries on a generated database: filters, keyset paging without gaps or
// repeats, the time-bounded substring scan that resumes where it stopped, and status counts that
// follow the history exactly. On the engine of the run (a sandbox database: SQLite, or PostgreSQL in
// the postgres project).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/open.js";
import { setStagedStatus } from "../src/store/queries/queries.js";
import { resubmittableIds, stagedCounts, stagedPage, type StagedFilter } from "../src/store/queries/web-queries.js";
import type { Store } from "../src/store/store.js";
import { defaultConfig } from "../src/config.js";
import type { Deps } from "../src/pipeline/deps.js";
import { makeContext } from "../src/web/context.js";
import { Security } from "../src/web/security.js";
import { sandbox } from "./helpers/cli.js";

const N = 3000;
const statusOf = (i: number) => (i % 10 === 0 ? "error" : i % 15 === 0 ? "held" : i % 7 === 0 ? "invalid" : "complete");
let db: Store;

beforeAll(async () => {
  db = await openStore(sandbox().db, { busyTimeoutMs: 5000 });
  await db.write(async (tx) => {
    for (let i = 1; i <= N; i++) {
      // One mail an hour from 2025-01-01; every 100th mentions a zebra in its body only.
      const at = new Date(Date.UTC(2025, 0, 1) + (i - 1) * 3600_000).toISOString();
      const { id } = (await tx.get<{ id: number }>(
        `INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, message_id, from_address, from_name, subject, headers, text_body)
          VALUES (?, ?, ?, 'stdin', 'h', 100, ?, ?, ?, ?, '', ?) RETURNING id`,
        [at, at, statusOf(i), `<m${i}@x.example>`, `user${i % 40}@x.example`, i % 40 === 3 ? "Percy 100% Sure_Thing" : null, `Order ${i}`, i % 100 === 0 ? "a zebra crossed" : "plain text"],
      ))!;
      await tx.run(`INSERT INTO staged_mail_status_history (staged_mail_id, status, at) VALUES (?, ?, ?)`, [id, statusOf(i), at]);
      // Every 100th from the 50th is processed: its text lives on its actions only (issue 9.3).
      if (i % 100 === 50) {
        await tx.run(`UPDATE staged_mails SET text_body = NULL, interaction_id = ? WHERE id = ?`, [i, id]);
        await tx.run(`INSERT INTO interactions (id, user_identification_id, staged_mail_id, interaction_date, originator, type, headers) VALUES (?, 1, ?, ?, 'customer', 'email', '')`, [i, id, at]);
        for (const issue of [1, 2]) await tx.run(`INSERT INTO actions (issue_id, interaction_id, details, created_at) VALUES (?, ?, 'a giraffe wandered by', ?)`, [issue, i, at]);
      }
    }
  });
}, 120_000);

afterAll(async () => {
  await db?.close();
});

const all = async (f: StagedFilter, o: { limit?: number; budgetMs?: number; chunk?: number } = {}) => {
  const ids: number[] = [];
  let before: number | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const p = await stagedPage(db, f, { limit: o.limit ?? 50, before, budgetMs: o.budgetMs, chunk: o.chunk });
    ids.push(...p.rows.map((r) => r.id));
    if (p.before === null) return ids;
    before = p.before;
  }
  throw new Error("paging did not end");
};
const expected = (pred: (i: number) => boolean) => Array.from({ length: N }, (_, k) => N - k).filter(pred);

describe("staged mail pages", () => {
  it.each<[string, StagedFilter, (i: number) => boolean]>([
    ["everything, newest first", {}, () => true],
    ["a status", { status: "error" }, (i) => statusOf(i) === "error"],
    ["an exact sender", { sender: "USER7@x.example" }, (i) => i % 40 === 7],
    ["part of a display name, wildcards literal", { sender: "100% Sure_" }, (i) => i % 40 === 3],
    ["a subject part", { subject: "Order 29" }, (i) => String(i).startsWith("29")],
    ["a Message-ID without brackets", { messageId: "m1234@x.example" }, (i) => i === 1234],
    ["a Message-ID with brackets", { messageId: "<m1234@x.example>" }, (i) => i === 1234],
    ["text in the body", { q: "zebra" }, (i) => i % 100 === 0],
    ["text on the actions of a processed mail", { q: "GIRAFFE" }, (i) => i % 100 === 50],
    ["one day", { since: "2025-01-03", until: "2025-01-03" }, (i) => i >= 49 && i <= 72],
    ["status and text", { status: "error", q: "zebra" }, (i) => i % 100 === 0],
    ["a day and a status", { since: "2025-02-01", until: "2025-02-03", status: "held" }, (i) => i >= 745 && i <= 816 && statusOf(i) === "held"],
  ])("%s: every match once, in order, across pages", async (_name, f, pred) => {
    expect(await all(f)).toEqual(expected(pred));
  });

  it("a substring scan that runs out of time says where it stopped, and the next page carries on", async () => {
    let t = 0;
    // A clock that moves 60 ms per read: the 100 ms budget allows two ranges of 200 ids per request.
    const p = await stagedPage(db, { q: "zebra" }, { limit: 50, budgetMs: 100, chunk: 200, clock: () => (t += 60) });
    expect(p.rows.map((r) => r.id)).toEqual([3000, 2900, 2800, 2700]);
    expect(p.scannedDownTo).toBe(N + 1 - 400);
    expect(p.before).toBe(p.scannedDownTo);
    expect(await all({ q: "zebra" }, { budgetMs: 0, chunk: 150 })).toEqual(expected((i) => i % 100 === 0));
  });

  it("bulk resubmit takes only resubmittable statuses, oldest first", async () => {
    expect(await resubmittableIds(db, { status: "complete" }, 10)).toEqual([]);
    expect(await resubmittableIds(db, { status: "held" }, 3)).toEqual([15, 45, 75]);
    const mixed = await resubmittableIds(db, { q: "zebra" }, 1000);
    expect(mixed).toEqual(expected((i) => i % 100 === 0 && statusOf(i) !== "complete").reverse());
  });
});

describe("status counts", () => {
  it("count by status once, then follow the history exactly", async () => {
    const first = await stagedCounts(db);
    const byHand = (s: string) => expected((i) => statusOf(i) === s).length;
    expect(first.counts).toEqual({ complete: byHand("complete"), error: byHand("error"), held: byHand("held"), invalid: byHand("invalid") });
    const deps = { db, store: db, config: defaultConfig, now: () => new Date() } as unknown as Deps;
    const ctx = makeContext(deps, new Security({ passwordHash: null, allowedHosts: null }));
    expect((await ctx.counts()).counts).toEqual(first.counts);
    // A resubmit's path: error → new → in_process → workflow → complete, then a new mail staged.
    const at = new Date().toISOString();
    await setStagedStatus(db, 10, "new", at);
    await setStagedStatus(db, 10, "complete", at, {}, null, ["in_process", "workflow"]);
    await setStagedStatus(db, 20, "new", at);
    const { id } = (await db.get<{ id: number }>(`INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, headers) VALUES (?, ?, 'new', 'stdin', 'h', 1, '') RETURNING id`, [at, at]))!;
    await db.run(`INSERT INTO staged_mail_status_history (staged_mail_id, status, at) VALUES (?, 'new', ?)`, [id, at]);
    const followed = (await ctx.counts()).counts;
    expect(Object.fromEntries(Object.entries(followed).filter(([, n]) => n !== 0))).toEqual((await stagedCounts(db)).counts);
    expect(followed.new).toBe(2);
    expect(followed.error).toBe(byHand("error") - 2);
  });
});
