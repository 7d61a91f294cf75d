// issue 12: the lock the daemon's two threads take turns through for their write transactions.
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { lockWrites, WriteLock } from "../../src/serve/write-lock.js";

describe("WriteLock", () => {
  it("runs fn holding the lock and lets go of it, also when fn throws", () => {
    const lock = new WriteLock(undefined, 50);
    expect(lock.run(() => 42)).toBe(42);
    expect(() => lock.run(() => { throw new Error("boom"); })).toThrow("boom");
    expect(lock.run(() => "free again", true)).toBe("free again");
  });

  it("a holder that does not let go within the timeout gives SQLITE_BUSY, as SQLite's own lock would", () => {
    const buffer = new SharedArrayBuffer(8);
    const holder = new WriteLock(buffer, 50);
    const other = new WriteLock(buffer, 50);
    holder.run(() => {
      const started = Date.now();
      expect(() => other.run(() => "never")).toThrow(expect.objectContaining({ code: "SQLITE_BUSY" }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    });
    expect(other.run(() => "after")).toBe("after");
  });

  it("lockWrites: an immediate transaction takes the lock, a nested one (savepoint) runs in the outer one's turn", () => {
    const client = new Database(":memory:");
    client.exec("CREATE TABLE t (x)");
    const buffer = new SharedArrayBuffer(8);
    lockWrites(client, new WriteLock(buffer, 50));
    const probe = new WriteLock(buffer, 10);
    const inner = client.transaction(() => client.prepare("INSERT INTO t VALUES (2)").run());
    client.transaction(() => {
      client.prepare("INSERT INTO t VALUES (1)").run();
      // Held by the outer transaction: another taker times out...
      expect(() => probe.run(() => 0)).toThrow(expect.objectContaining({ code: "SQLITE_BUSY" }));
      // ...while the nested one does not wait for it.
      inner.immediate();
    }).immediate();
    expect(client.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    expect(probe.run(() => "free")).toBe("free");
  });
});
