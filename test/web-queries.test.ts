// The console's list queries on a generated database: filters, keyset paging without gaps or
// repeats, the time-bounded substring scan that resumes where it stopped, and status counts that
// follow the history exactly.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { setStagedStatus } from "../src/db/queries.js";
import { openDb, type Db } from "../src/db/open.js";
import { resubmittableIds, stagedCounts, stagedPage, type StagedFilter } from "../src/db/web-queries.js";
import { defaultConfig } from "../src/config.js";
import type { Deps } from "../src/pipeline/deps.js";
import { makeContext } from "../src/web/context.js";
import { Security } from "../src/web/security.js";

const N = 3000;
const statusOf = (i: number) => (i % 10 === 0 ? "error" : i % 15 === 0 ? "held" : i % 7 === 0 ? "invalid" : "complete");
let db: Db;

beforeAll(() => {
  db = openDb(join(mkdtempSync(join(tmpdir(), "web-queries-")), "t.db"), { busyTimeoutMs: 5000 });
  const ins = db.$client.prepare(`INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, message_id, from_address, from_name, subject, headers, text_body)
    VALUES (?, ?, ?, 'stdin', 'h', 100, ?, ?, ?, ?, '', ?)`);
  const hist = db.$client.prepare(`INSERT INTO staged_mail_status_history (staged_mail_id, status, at) VALUES (?, ?, ?)`);
  db.$client.transaction(() => {
    for (let i = 1; i <= N; i++) {
      // One mail an hour from 2025-01-01; every 100th mentions a zebra in its body only.
      const at = new Date(Date.UTC(2025, 0, 1) + (i - 1) * 3600_000).toISOString();
      const id = ins.run(at, at, statusOf(i), `<m${i}@x.example>`, `user${i % 40}@x.example`, i % 40 === 3 ? "Percy 100% Sure_Thing" : null, `Order ${i}`, i % 100 === 0 ? "a zebra crossed" : "plain text").lastInsertRowid;
      hist.run(id, statusOf(i), at);
      // Every 100th from the 50th is processed: its text lives on its actions only (issue 9.3).
      if (i % 100 === 50) {
        db.$client.prepare(`UPDATE staged_mails SET text_body = NULL, interaction_id = ? WHERE id = ?`).run(i, id);
        db.$client.prepare(`INSERT INTO interactions (id, user_identification_id, staged_mail_id, interaction_date, originator, type, headers) VALUES (?, 1, ?, ?, 'customer', 'email', '')`).run(i, id, at);
        for (const issue of [1, 2]) db.$client.prepare(`INSERT INTO actions (issue_id, interaction_id, details, created_at) VALUES (?, ?, 'a giraffe wandered by', ?)`).run(issue, i, at);
      }
    }
  })();
});

const all = (f: StagedFilter, o: { limit?: number; budgetMs?: number; chunk?: number } = {}) => {
  const ids: number[] = [];
  let before: number | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const p = stagedPage(db, f, { limit: o.limit ?? 50, before, budgetMs: o.budgetMs, chunk: o.chunk });
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
  ])("%s: every match once, in order, across pages", (_name, f, pred) => {
    expect(all(f)).toEqual(expected(pred));
  });

  it("a substring scan that runs out of time says where it stopped, and the next page carries on", () => {
    let t = 0;
    // A clock that moves 60 ms per read: the 100 ms budget allows two ranges of 200 ids per request.
    const p = stagedPage(db, { q: "zebra" }, { limit: 50, budgetMs: 100, chunk: 200, clock: () => (t += 60) });
    expect(p.rows.map((r) => r.id)).toEqual([3000, 2900, 2800, 2700]);
    expect(p.scannedDownTo).toBe(N + 1 - 400);
    expect(p.before).toBe(p.scannedDownTo);
    expect(all({ q: "zebra" }, { budgetMs: 0, chunk: 150 })).toEqual(expected((i) => i % 100 === 0));
  });

  it("bulk resubmit takes only resubmittable statuses, oldest first", () => {
    expect(resubmittableIds(db, { status: "complete" }, 10)).toEqual([]);
    expect(resubmittableIds(db, { status: "held" }, 3)).toEqual([15, 45, 75]);
    const mixed = resubmittableIds(db, { q: "zebra" }, 1000);
    expect(mixed).toEqual(expected((i) => i % 100 === 0 && statusOf(i) !== "complete").reverse());
  });
});

describe("status counts", () => {
  it("count by status once, then follow the history exactly", () => {
    const first = stagedCounts(db);
    const byHand = (s: string) => expected((i) => statusOf(i) === s).length;
    expect(first.counts).toEqual({ complete: byHand("complete"), error: byHand("error"), held: byHand("held"), invalid: byHand("invalid") });
    const deps = { db, config: defaultConfig, now: () => new Date() } as unknown as Deps;
    const ctx = makeContext(deps, new Security({ passwordHash: null, allowedHosts: null }));
    expect(ctx.counts().counts).toEqual(first.counts);
    // A resubmit's path: error → new → in_process → workflow → complete, then a new mail staged.
    const at = new Date().toISOString();
    setStagedStatus(db, 10, "new", at);
    setStagedStatus(db, 10, "complete", at, {}, null, ["in_process", "workflow"]);
    setStagedStatus(db, 20, "new", at);
    const id = Number(db.$client.prepare(`INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, headers) VALUES (?, ?, 'new', 'stdin', 'h', 1, '')`).run(at, at).lastInsertRowid);
    db.$client.prepare(`INSERT INTO staged_mail_status_history (staged_mail_id, status, at) VALUES (?, 'new', ?)`).run(id, at);
    const followed = ctx.counts().counts;
    expect(Object.fromEntries(Object.entries(followed).filter(([, n]) => n !== 0))).toEqual(stagedCounts(db).counts);
    expect(followed.new).toBe(2);
    expect(followed.error).toBe(byHand("error") - 2);
  });
});
