// domain.md §1 / issue 9.1: on SQLite a staging commit waits for the disk (synchronous = FULL) and
// the rest do not (NORMAL: they can be redone from the staged record). The level is set only when
// it changes (issue 12: the daemon's staging connection keeps FULL), so each transaction must still
// see the level it asked for, whatever ran before it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

describe("SQLite commits: durable ones at synchronous = FULL, the rest NORMAL", () => {
  it("each write transaction runs at the level it asked for, in any order", async () => {
    const store = openSqliteStore(join(mkdtempSync(join(tmpdir(), "ingest-mail-sync-")), "db.sqlite"), { busyTimeoutMs: 1000 });
    const level = (durable: boolean) => store.write(async (tx) => (await tx.get<{ synchronous: number }>(`PRAGMA synchronous`))!.synchronous, { durable });
    const seen: number[] = [];
    for (const durable of [true, true, false, false, true, false, true]) seen.push(await level(durable));
    // 2 = FULL, 1 = NORMAL (sqlite.org/pragma.html#pragma_synchronous).
    expect(seen).toEqual([2, 2, 1, 1, 2, 1, 2]);
    await store.close();
  });
});
