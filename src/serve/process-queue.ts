// Processing after the 250 (issue 12, point 4): staged ids wait in a bounded queue and are processed
// one at a time by the per-process path's own `processStaged`, so the results are the same as
// `ingest-mail < mail` would give. The queue holds ids only; when it is full an id is simply not
// queued: the record stays `new` in the database and the next refill finds it there. On start and
// every sweep the daemon does what `recover` does (records left `new`, or `in_process`/`workflow`
// by a crash) and retries the outbox (with backoff), so no cron job is needed.
import { getStaged, setStagedStatus } from "../store/queries/queries.js";
import { listNewStagedIds, listStuckInProcessIds } from "../store/queries/serve-queries.js";
import type { Deps } from "../pipeline/deps.js";
import { safe } from "./log.js";
import { afterStaging, processStaged } from "../pipeline/ingest.js";
import { retryOutbox, retryIsDue } from "../pipeline/outbound.js";
import type { Outcome } from "../pipeline/outcome.js";
import type { StageResult } from "../pipeline/stage.js";

/** A record to process: just staged (with the claim staging took), or found `new` by a sweep. */
export type Task = { id: number; staged?: StageResult };

export interface QueueOptions {
  /** Ids waiting at most; beyond, records wait in the database. */
  capacity: number;
  /** Work this long before letting the event loop serve the LMTP sessions again (ms). */
  sliceMs: number;
}

export interface QueueStats {
  processed: number;
  byStatus: Record<string, number>;
  overflowed: number;
  recovered: number;
}

const STUCK_NOTE = (from: string) => `recovered by serve from ${from}`;

export class ProcessQueue {
  private readonly tasks: Task[] = [];
  /** Ids queued or being processed, with how many tasks each has. */
  private readonly queued = new Map<number, number>();
  private running = false;
  private halted = false;
  private idle: (() => void)[] = [];
  /** Set when an id was not queued (full): the next refill reads the database for it. */
  private missed = false;
  /** Refill cursor: ids at or below it were queued since the last full sweep. */
  private cursor = 0;
  /** The sweeps and refills, one after the other: two at once would race over the cursor. */
  private reads: Promise<unknown> = Promise.resolve();
  /** Ids whose processing ended while a refill read the database: the `new` it read is stale. */
  private endedDuringRead: Set<number> | null = null;
  readonly stats: QueueStats = { processed: 0, byStatus: {}, overflowed: 0, recovered: 0 };

  constructor(
    private deps: Deps,
    private readonly opts: QueueOptions,
    private readonly log: (line: string) => void,
  ) {}

  /** SIGHUP: later tasks see the new configuration. */
  setDeps(deps: Deps): void {
    this.deps = deps;
  }

  get length(): number {
    return this.tasks.length;
  }

  /** Queues a staged record; false when the queue is full (the record waits in the database). */
  push(task: Task): boolean {
    // A sweep does not queue a record twice; a task from staging always goes in: it carries the
    // newest claim (a redelivery took the record over) and the earlier task then leaves it alone.
    if (this.queued.has(task.id) && !task.staged) return true;
    if (this.tasks.length >= this.opts.capacity) {
      this.missed = true;
      this.stats.overflowed++;
      return false;
    }
    this.tasks.push(task);
    this.queued.set(task.id, (this.queued.get(task.id) ?? 0) + 1);
    this.kick();
    return true;
  }

  /**
   * What `recover` does, for the daemon: records a crash left in in_process / workflow for longer
   * than recoverAfterMinutes go back to `new`; then every `new` record is queued, oldest first, as
   * far as the queue has room. Returns how many were queued.
   */
  sweep(): Promise<number> {
    return this.serially(async () => {
      const { db, config, now } = this.deps;
      const before = new Date(now().getTime() - config.recoverAfterMinutes * 60_000).toISOString();
      for (const id of await listStuckInProcessIds(db, before)) {
        // Records of older versions that stopped in in_process / workflow go back to new first.
        const claimed = await db.write(async (tx) => {
          const row = await getStaged(tx, id);
          if (!row || (row.status !== "in_process" && row.status !== "workflow") || row.updatedAt >= before) return false;
          await setStagedStatus(tx, id, "new", now().toISOString(), { claimedBy: null, claimedAt: null }, STUCK_NOTE(row.status));
          return true;
        });
        if (claimed) this.stats.recovered++;
      }
      this.cursor = 0;
      return this.readNew();
    });
  }

  /** Queues `new` records from the database while there is room. */
  private refill(): Promise<number> {
    return this.serially(() => this.readNew());
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.reads.then(fn);
    this.reads = r.catch(() => undefined);
    return r;
  }

  private async readNew(): Promise<number> {
    let n = 0;
    this.missed = false;
    while (this.tasks.length < this.opts.capacity) {
      const ended = (this.endedDuringRead = new Set());
      let ids: number[];
      try {
        ids = await listNewStagedIds(this.deps.db, this.cursor, Math.min(500, this.opts.capacity - this.tasks.length));
      } finally {
        this.endedDuringRead = null;
      }
      if (!ids.length) break;
      for (const id of ids) if (!ended.has(id) && this.push({ id })) n++;
      this.cursor = ids[ids.length - 1];
    }
    return n;
  }

  /** Shutdown: the task being processed finishes, the rest stay `new` in the database. */
  stop(): void {
    this.halted = true;
  }

  /** Resolves when the queue is empty (or stopped), nothing is being processed and no sweep is reading. */
  async whenIdle(): Promise<void> {
    if (this.running || (!this.halted && this.tasks.length)) await new Promise<void>((r) => this.idle.push(r));
    await this.reads;
  }

  private kick(): void {
    if (this.running || this.halted) return;
    this.running = true;
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const started = performance.now();
        while (!this.halted && this.tasks.length && performance.now() - started < this.opts.sliceMs) await this.one(this.tasks.shift()!);
        if (!this.halted && !this.tasks.length && this.missed) await this.refill();
        if (this.halted || !this.tasks.length) break;
        // Let the LMTP sessions (and the group commit) have the thread for a turn.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
      const waiters = this.idle.splice(0);
      for (const w of waiters) w();
    }
  }

  private async one(task: Task): Promise<void> {
    const deps = this.deps;
    try {
      // Just staged: what follows staging, as for mail on stdin (the claim staging took; a
      // takeover of a redelivered record). Found by a sweep: claimed now, unless a live process
      // holds it (then it stays `new` and is left to that process).
      const outcome = task.staged ? await afterStaging(deps, task.staged) : await processStaged(deps, task.id, { takeOwnClaim: true });
      this.count(task.id, outcome.status, outcome);
    } catch (e) {
      // Only a record that vanished gets here (processStaged keeps every other fault as `error`,
      // or leaves the record `new` for the next sweep when even that cannot be written).
      this.log(`process staged=${task.id} failed: ${(e as Error).message}`);
    } finally {
      this.endedDuringRead?.add(task.id);
      const n = (this.queued.get(task.id) ?? 1) - 1;
      if (n > 0) this.queued.set(task.id, n);
      else this.queued.delete(task.id);
    }
  }

  /** Failed outbound mail, sent again with backoff (issue 9.8: the long-running mode's retry). */
  async retryOutbox(): Promise<void> {
    const deps = this.deps;
    const sent = await retryOutbox(deps, [], (row) => retryIsDue(row, deps.now()));
    for (const s of sent) this.log(`outbox retry ${s.kind} to ${safe(s.to)}: ${s.status}${s.error ? ` (${safe(s.error)})` : ""}`);
  }

  private count(id: number, status: string, outcome: Outcome | null): void {
    this.stats.processed++;
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
    this.log(`processed staged=${id} status=${status}${outcome ? describeOutcome(outcome) : ""}`);
  }
}

function describeOutcome(o: Outcome): string {
  const issues = o.issues.map((i) => `${i.reference}(${i.created ? "new" : (i.matchedBy ?? "matched")})`).join(",");
  return issues ? ` issues=${issues}` : "";
}
