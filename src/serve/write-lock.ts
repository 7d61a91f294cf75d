// One writer at a time between the daemon's two threads (staging on the main thread, processing on
// its own), handed over at once. Without it the two connections meet in SQLite's busy handler,
// which sleeps 1, 2, 5, 10... ms between tries: with the processing thread writing back to back,
// a staging commit waited 7 ms on average (bench profile) for a lock that was free most of that
// time. Staging (a 250 waits for it) goes first: the processing thread does not take the lock while
// the main thread is waiting for it.
//
// SQLite only: each thread opens its store with its WriteLock as the engine's `writeTurn`
// (store/sqlite/engine.ts takes it before BEGIN IMMEDIATE and gives it back after COMMIT or
// ROLLBACK; savepoints run inside the outer transaction's turn). PostgreSQL has row locks and
// several daemons may share one database (issue 12.7): no lock there.
import { StorageFault } from "../errors.js";
import type { WriteTurn } from "../store/sqlite/engine.js";

// Atomics.waitAsync (V8 8.7, Node 16+) is not in TypeScript's ES2022 library.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const HELD = 0;
const STAGER_WAITING = 1;
// After the two flags: each side's totals (turns, µs held, µs waited), written by its own thread
// only, read by the status line (`serve` SIGUSR1): how the two threads share the one writer, the
// bound of the daemon's throughput on SQLite (docs/lmtp.md, "Where the time goes").
const TOTALS_AT = 8;
const TURNS = 0;
const HELD_US = 1;
const WAITED_US = 2;
const TOTALS = 3;
/** The size of a lock's shared buffer: the two flags, then both sides' totals. */
export const LOCK_BYTES = TOTALS_AT + 2 * TOTALS * 8;

/** One side's use of the write lock since the daemon started. */
export interface LockUse {
  turns: number;
  heldMs: number;
  waitedMs: number;
}

/** Both sides' use of the lock whose buffer this is: staging (the main thread, and with --inline its processing too) and the processing thread. */
export function lockUse(buffer: SharedArrayBuffer): { staging: LockUse; processing: LockUse } {
  const t = new BigInt64Array(buffer, TOTALS_AT, 2 * TOTALS);
  const side = (at: number) => ({
    turns: Number(Atomics.load(t, at + TURNS)),
    heldMs: Math.round(Number(Atomics.load(t, at + HELD_US)) / 1000),
    waitedMs: Math.round(Number(Atomics.load(t, at + WAITED_US)) / 1000),
  });
  return { staging: side(0), processing: side(TOTALS) };
}

export class WriteLock implements WriteTurn {
  private readonly a: Int32Array;
  private readonly totals: BigInt64Array;
  /** When this side took the lock (performance.now()), 0 when it does not hold it; and as which side. */
  private heldSince = 0;
  private heldAs = 0;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(LOCK_BYTES),
    /** Past this the caller gets a StorageFault (exit 75, 451), as from SQLite's busy timeout (busyTimeoutMs). */
    private readonly timeoutMs = 30_000,
    /** The stager's side: served before a waiting processor. */
    private readonly first = false,
  ) {
    this.a = new Int32Array(buffer, 0, 2);
    this.totals = new BigInt64Array(buffer, TOTALS_AT, 2 * TOTALS);
  }

  /** Runs fn holding the lock. */
  run<T>(fn: () => T, first = this.first): T {
    this.acquire(first);
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  /**
   * Waits for the lock without blocking the thread: on the main thread the LMTP sessions go on
   * being read while the processing thread finishes its transaction, and the next group commit
   * holds what arrived meanwhile (bench: the main thread had spent a third of its time blocked in
   * acquire). The store takes the lock this way on both threads (store/sqlite/engine.ts).
   */
  async acquireAsync(first = this.first): Promise<void> {
    const since = performance.now();
    const deadline = this.enter(first);
    try {
      for (let wait = this.attempt(first, deadline); wait !== null; wait = this.attempt(first, deadline)) {
        const w = waitAsync(this.a, wait, 1, 5);
        if (w.async) await w.value;
      }
    } finally {
      this.leave(first);
    }
    this.taken(first, since);
  }

  /** Blocks this thread until the lock is ours (the other thread holds it for one transaction at most). */
  acquire(first = this.first): void {
    const since = performance.now();
    const deadline = this.enter(first);
    try {
      for (let wait = this.attempt(first, deadline); wait !== null; wait = this.attempt(first, deadline)) Atomics.wait(this.a, wait, 1, 5);
    } finally {
      this.leave(first);
    }
    this.taken(first, since);
  }

  /** Counts a turn and its wait, on this side's totals (the stager's, or the processor's). */
  private taken(first: boolean, since: number): void {
    this.heldSince = performance.now();
    this.heldAs = first ? 0 : TOTALS;
    Atomics.add(this.totals, this.heldAs + TURNS, 1n);
    Atomics.add(this.totals, this.heldAs + WAITED_US, BigInt(Math.round((this.heldSince - since) * 1000)));
  }

  /** The stager is waiting for the lock (the processing thread's batch then commits early). */
  stagerWaiting(): boolean {
    return Atomics.load(this.a, STAGER_WAITING) === 1;
  }

  /** Starts waiting (the stager says so); returns the deadline. */
  private enter(first: boolean): number {
    if (first) Atomics.store(this.a, STAGER_WAITING, 1);
    return Date.now() + this.timeoutMs;
  }

  private leave(first: boolean): void {
    if (!first) return;
    Atomics.store(this.a, STAGER_WAITING, 0);
    Atomics.notify(this.a, STAGER_WAITING);
  }

  /**
   * Takes the lock if it is free (and, for the processor, the stager is not waiting): null when
   * taken, else the slot to wait on: the release (HELD) or the stager having had its turn.
   */
  private attempt(first: boolean, deadline: number): number | null {
    const yieldToStager = !first && Atomics.load(this.a, STAGER_WAITING) === 1;
    if (!yieldToStager && Atomics.compareExchange(this.a, HELD, 0, 1) === 0) return null;
    if (Date.now() > deadline) throw new StorageFault("database is locked (the daemon's other thread held it too long)", "WRITE_LOCK_TIMEOUT");
    return yieldToStager ? STAGER_WAITING : HELD;
  }

  release(): void {
    if (this.heldSince) {
      Atomics.add(this.totals, this.heldAs + HELD_US, BigInt(Math.round((performance.now() - this.heldSince) * 1000)));
      this.heldSince = 0;
    }
    Atomics.store(this.a, HELD, 0);
    Atomics.notify(this.a, HELD);
  }
}
