// issue 12: the lock the daemon's two threads take turns through for their write transactions
// (issue 11: the SQLite engine takes it as its writeTurn).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StorageFault } from "../../src/errors.js";
import { LOCK_BYTES, lockUse, WriteLock } from "../../src/serve/write-lock.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";

describe("WriteLock", () => {
  it("runs fn holding the lock and lets go of it, also when fn throws", () => {
    const lock = new WriteLock(undefined, 50);
    expect(lock.run(() => 42)).toBe(42);
    expect(() => lock.run(() => { throw new Error("boom"); })).toThrow("boom");
    expect(lock.run(() => "free again", true)).toBe("free again");
  });

  it("a holder that does not let go within the timeout gives a StorageFault, as SQLite's own busy timeout would", () => {
    const buffer = new SharedArrayBuffer(LOCK_BYTES);
    const holder = new WriteLock(buffer, 50);
    const other = new WriteLock(buffer, 50);
    holder.run(() => {
      const started = Date.now();
      expect(() => other.run(() => "never")).toThrow(StorageFault);
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    });
    expect(other.run(() => "after")).toBe("after");
  });

  it("the stager's acquireAsync waits without blocking its thread, and gets the lock once it is given back", async () => {
    const buffer = new SharedArrayBuffer(LOCK_BYTES);
    const processor = new WriteLock(buffer, 1000);
    const stager = new WriteLock(buffer, 1000, true);
    processor.acquire();
    let got = false;
    const waiting = stager.acquireAsync().then(() => void (got = true));
    // The event loop goes on meanwhile (a blocking wait would hold it until the lock came back).
    let turns = 0;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)), turns++;
    expect(turns).toBe(5);
    expect(got).toBe(false);
    // What the processing thread's batch looks at to commit early.
    expect(processor.stagerWaiting()).toBe(true);
    processor.release();
    await waiting;
    expect(got).toBe(true);
    expect(processor.stagerWaiting()).toBe(false);
    // Held by the stager now: the processor times out, then gets it once the stager lets go.
    expect(() => new WriteLock(buffer, 20).run(() => 0)).toThrow(StorageFault);
    stager.release();
    expect(processor.run(() => "after")).toBe("after");
  });

  it("counts each side's turns, time held and time waited, for the status line", async () => {
    const buffer = new SharedArrayBuffer(LOCK_BYTES);
    const processor = new WriteLock(buffer, 1000);
    const stager = new WriteLock(buffer, 1000, true);
    const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    expect(lockUse(buffer)).toEqual({ staging: { turns: 0, heldMs: 0, waitedMs: 0 }, processing: { turns: 0, heldMs: 0, waitedMs: 0 } });
    processor.run(() => sleep(30));
    processor.acquire();
    const waiting = stager.acquireAsync();
    await new Promise((r) => setTimeout(r, 40));
    processor.release();
    await waiting;
    sleep(20);
    stager.release();
    const use = lockUse(buffer);
    expect(use.processing.turns).toBe(2);
    expect(use.processing.heldMs).toBeGreaterThanOrEqual(60);
    expect(use.processing.waitedMs).toBeLessThan(10);
    expect(use.staging.turns).toBe(1);
    expect(use.staging.heldMs).toBeGreaterThanOrEqual(20);
    expect(use.staging.heldMs).toBeLessThan(use.processing.heldMs);
    expect(use.staging.waitedMs).toBeGreaterThanOrEqual(35);
    // A release without a turn (as after a timeout) adds nothing.
    processor.release();
    expect(lockUse(buffer)).toEqual(use);
  });

  it("acquireAsync past the timeout rejects with a StorageFault", async () => {
    const buffer = new SharedArrayBuffer(LOCK_BYTES);
    new WriteLock(buffer, 1000).acquire();
    await expect(new WriteLock(buffer, 30, true).acquireAsync()).rejects.toThrow(StorageFault);
  });

  it("as the store's writeTurn: a write transaction takes the lock, a nested one (savepoint) runs in the outer one's turn, a read takes none", async () => {
    const dir = mkdtempSync(join(tmpdir(), "write-lock-"));
    const buffer = new SharedArrayBuffer(LOCK_BYTES);
    const store = openSqliteStore(join(dir, "t.db"), { busyTimeoutMs: 1000, writeTurn: new WriteLock(buffer, 50, true) });
    const probe = new WriteLock(buffer, 10);
    try {
      await store.write(async (tx) => {
        await tx.run("CREATE TABLE t (x)");
        await tx.run("INSERT INTO t VALUES (1)");
        // Held by the outer transaction: another taker times out...
        expect(() => probe.run(() => 0)).toThrow(StorageFault);
        // ...while the nested one does not wait for it.
        await tx.write(async (sp) => void (await sp.run("INSERT INTO t VALUES (2)")));
      });
      expect(probe.run(() => "free")).toBe("free");
      await store.read(async (tx) => {
        expect(probe.run(() => "free while reading")).toBe("free while reading");
        expect(await tx.get("SELECT count(*) AS n FROM t")).toEqual({ n: 2 });
      });
      // A failed transaction gives the lock back too.
      await expect(store.write(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      expect(probe.run(() => "free after a rollback")).toBe("free after a rollback");
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
