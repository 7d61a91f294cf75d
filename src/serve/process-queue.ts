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
import { afterStaging, parseStaged, processStaged } from "../pipeline/ingest.js";
import type { ParsedMail } from "../pipeline/parse.js";
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
  /**
   * Just-staged records processed in one SQLite transaction at most (1: each in its own). A commit
   * per mail cost more than the mail's own workflow (bench: a third of the processing thread's
   * time in COMMIT), and consecutive mails touch the same index pages.
   */
  batch?: number;
  /**
   * True while another writer waits for the database (the daemon's staging, whose 250s wait for
   * its commit): a batch then commits what it has processed so far and goes on in a new
   * transaction, so staging waits for one mail's workflow at most, not a whole batch's.
   */
  yieldWhen?: () => boolean;
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
        while (!this.halted && this.tasks.length && performance.now() - started < this.opts.sliceMs) {
          const next = this.takeBatch();
          if (next.length > 1) await this.several(next);
          else await this.one(next[0]);
        }
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

  /**
   * The next tasks to process together: consecutive just-staged records (their claim taken by
   * staging) on SQLite. A sweep's record (claimed first, maybe held by a live process) or a
   * redelivery's takeover goes alone, and so does everything on PostgreSQL, where a lost race
   * (deadlock, serialization) retries one mail's transaction, not a batch's.
   */
  private takeBatch(): Task[] {
    const max = this.deps.db.engine === "sqlite" ? (this.opts.batch ?? 1) : 1;
    const out = [this.tasks.shift()!];
    if (out[0].staged?.kind !== "staged") return out;
    while (out.length < max && this.tasks.length && this.tasks[0].staged?.kind === "staged") out.push(this.tasks.shift()!);
    return out;
  }

  /**
   * Several just-staged records: parsed first, outside any transaction, then their workflows in
   * one write transaction, each in a savepoint of its own (a failing mail takes back only its own
   * work and is recorded `error`, as alone). When staging waits for the database (yieldWhen), the
   * transaction commits after the mail in hand and the rest go on in the next one. After each
   * commit its confirmations go out (issue 9.8) and its outcomes are logged. A commit that fails
   * leaves its records and the rest `new`, claimed by this process, for the next sweep
   * (takeOwnClaim), as a failed one() does.
   */
  private async several(tasks: Task[]): Promise<void> {
    const deps = this.deps;
    const parsed: { parsed?: ParsedMail; parseFailure?: Error }[] = [];
    for (const t of tasks) {
      try {
        parsed.push({ parsed: await parseStaged(deps, t.id, undefined, true) });
      } catch (e) {
        parsed.push({ parseFailure: e as Error });
      }
    }
    try {
      for (let from = 0; from < tasks.length; ) {
        const sends: (() => Promise<void>)[] = [];
        const outcomes: (Outcome | Error)[] = [];
        try {
          await deps.db.write(async (tx) => {
            do {
              const k = from + outcomes.length;
              try {
                outcomes.push(await tx.write((sp) => afterStaging({ ...deps, db: sp }, tasks[k].staged!, { ...parsed[k], deferOutbound: (send) => void sends.push(send) })));
              } catch (e) {
                outcomes.push(e as Error);
              }
            } while (from + outcomes.length < tasks.length && !this.opts.yieldWhen?.());
          });
        } catch (e) {
          this.log(`process: ${tasks.length - from} records processed together did not commit (${(e as Error).message}); they stay new for the next sweep`);
          return;
        }
        for (const send of sends) {
          try {
            await send();
          } catch (e) {
            this.log(`process: a confirmation could not be sent: ${(e as Error).message}`);
          }
        }
        outcomes.forEach((o, i) => {
          const id = tasks[from + i].id;
          if (o instanceof Error) this.log(`process staged=${id} failed: ${o.message}`);
          else this.count(id, o.status, o);
        });
        from += outcomes.length;
      }
    } finally {
      for (const t of tasks) this.ended(t.id);
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
      this.ended(task.id);
    }
  }

  private ended(id: number): void {
    this.endedDuringRead?.add(id);
    const n = (this.queued.get(id) ?? 1) - 1;
    if (n > 0) this.queued.set(id, n);
    else this.queued.delete(id);
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
