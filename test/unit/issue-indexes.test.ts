// Issue 12: the issues table's link, queue and assignee columns are nearly always NULL, so their
// indexes hold only the rows that have a value (partial indexes: seven index inserts fewer for each
// new issue). Every query on them asks for one value, and SQLite's planner must still use the index;
// the link graph (one recursive query for the state rules) must look issues up by key, never scan.
import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { linkGraphSql } from "../../src/store/queries/link-queries.js";

const PARTIAL: [string, string][] = [
  ["issues_parent_idx", "parent_id"],
  ["issues_split_idx", "split_from_id"],
  ["issues_merged_into_idx", "merged_into_id"],
  ["issues_converted_to_idx", "converted_to_id"],
  ["issues_follows_closed_idx", "follows_closed_id"],
  ["issues_queue_idx", "queue"],
  ["issues_assignee_idx", "assignee"],
];

async function migrated(): Promise<Database.Database> {
  const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-idx-")), "db.sqlite");
  await openSqliteStore(path, { busyTimeoutMs: 1000 }).close();
  return new Database(path);
}
const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);

describe("the issues table's partial indexes", () => {
  it.each(PARTIAL)("%s indexes only rows where %s is set, and a lookup by value uses it", async (name, col) => {
    const db = await migrated();
    const { sql } = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`).get(name) as { sql: string };
    expect(sql).toMatch(new RegExp(`WHERE "issues"\\."${col}" IS NOT NULL$`));
    // The shapes the commands and the web console use (web-queries.ts, queries.ts).
    expect(plan(db, `SELECT id, reference FROM issues WHERE ${col} = ? ORDER BY id`, 1)).toEqual([`SEARCH issues USING INDEX ${name} (${col}=?)`]);
    db.close();
  });

  it("the link graph reads issues by their id and the split-into index: no scan, no temporary tables", async () => {
    const db = await migrated();
    const steps = plan(db, linkGraphSql(), 1);
    expect(steps).toContain("SEARCH n USING COVERING INDEX issues_split_idx (split_from_id=?)");
    expect(steps.filter((s) => /issues|\bi\b|\bn\b/.test(s) && s.startsWith("SCAN"))).toEqual([]);
    expect(steps).toContain(`SEARCH issues USING INTEGER PRIMARY KEY (rowid=?)`);
    // `WHERE id IN (SELECT id FROM linked)` materialised the graph and built an IN list from it,
    // about 100 us a matched mail against 10 for the join fed by the co-routine.
    expect(steps).toContain("CO-ROUTINE linked");
    expect(steps.filter((s) => /MATERIALIZE|LIST SUBQUERY/.test(s))).toEqual([]);
    db.close();
  });
});
