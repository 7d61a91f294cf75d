// One writer at a time between the daemon's two threads (staging on the main thread, processing on
// its own), handed over at once. Without it the two connections meet in SQLite's busy handler,
// which sleeps 1, 2, 5, 10... ms between tries: with the processing thread writing back to back,
// a staging commit waited 7 ms on average (bench profile) for a lock that was free most of that
// time. Staging (a 250 waits for it) goes first: the processing thread does not take the lock while
// the main thread is waiting for it.
import type Database from "better-sqlite3";

const HELD = 0;
const STAGER_WAITING = 1;

export class WriteLock {
  private readonly a: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8),
    /** Past this the caller gets SQLITE_BUSY, as from SQLite itself (busyTimeoutMs). */
    private readonly timeoutMs = 30_000,
  ) {
    this.a = new Int32Array(buffer);
  }

  /** Runs fn holding the lock; `first`: the stager, served before a waiting processor. */
  run<T>(fn: () => T, first = false): T {
    this.acquire(first);
    try {
      return fn();
    } finally {
      Atomics.store(this.a, HELD, 0);
      Atomics.notify(this.a, HELD);
    }
  }

  private acquire(first: boolean): void {
    const deadline = Date.now() + this.timeoutMs;
    if (first) Atomics.store(this.a, STAGER_WAITING, 1);
    try {
      for (;;) {
        const yieldToStager = !first && Atomics.load(this.a, STAGER_WAITING) === 1;
        if (!yieldToStager && Atomics.compareExchange(this.a, HELD, 0, 1) === 0) return;
        if (Date.now() > deadline) throw Object.assign(new Error("database is locked (the daemon's other thread held it too long)"), { code: "SQLITE_BUSY" });
        // Woken by the release (HELD) or by the stager having had its turn (STAGER_WAITING).
        Atomics.wait(this.a, yieldToStager ? STAGER_WAITING : HELD, 1, 5);
      }
    } finally {
      if (first) {
        Atomics.store(this.a, STAGER_WAITING, 0);
        Atomics.notify(this.a, STAGER_WAITING);
      }
    }
  }
}

/**
 * Makes every write transaction of this connection (inWriteTx: `transaction(fn).immediate()`)
 * take the lock first; nested ones (savepoints) run inside the outer one's turn.
 */
export function lockWrites(client: Database.Database, lock: WriteLock, first = false): void {
  const original = client.transaction.bind(client);
  const patched = ((fn: (...a: unknown[]) => unknown) => {
    const tx = original(fn);
    const immediate = (...args: unknown[]) => (client.inTransaction ? tx.immediate(...args) : lock.run(() => tx.immediate(...args), first));
    return Object.assign((...args: unknown[]) => tx(...args), { immediate, deferred: tx.deferred, exclusive: tx.exclusive, default: tx.default });
  }) as unknown as Database.Database["transaction"];
  client.transaction = patched;
}
