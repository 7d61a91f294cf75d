// Group commit (issue 12, point 3): deliveries that finish DATA while a staging commit is running,
// or within a short window after the first of them, are staged together in one durable transaction
// and share its fsync. Each caller's promise settles only after the commit that holds its message
// has returned, so no 250 goes out before its message is on disk.
//
// One commit at a time: deliveries that arrive while it runs wait for it and form the next group,
// committed as soon as it has returned. On SQLite the commit barely yields (better-sqlite3 is
// synchronous): while it waits for the disk the event loop stands still, the kernel buffers what the
// clients send meanwhile, and the next group is the larger for it. On PostgreSQL the loop goes on
// and the deliveries gather here instead. Either way the number of fsyncs per second stays bounded
// under load.

export interface GroupCommitOptions {
  /** How long the first waiting delivery waits for company, in ms (0: until the next turn of the event loop). */
  windowMs: number;
  /**
   * Deliveries still on their way (their DATA being received or parsed), when known: a group that
   * holds all of them commits at once, without waiting out the window.
   */
  onTheWay?: () => number;
  /** At most this many deliveries in one transaction. */
  maxBatch: number;
}

export interface GroupStats {
  commits: number;
  deliveries: number;
  largest: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

export class GroupCommit<I, R> {
  private waiting: Waiting<I, R>[] = [];
  private cancelTimer: (() => void) | null = null;
  /** The scheduled flush waits out the window (rather than the end of this turn). */
  private timed = false;
  /** A commit is running (the next group waits for it); how many deliveries it holds. */
  private committing = false;
  private inCommit = 0;
  readonly stats: GroupStats = { commits: 0, deliveries: 0, largest: 0 };

  constructor(
    /** Stages the group in one transaction; resolves with one result per item, in order, once committed. */
    private readonly commit: (items: I[]) => Promise<R[]> | R[],
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Settles once the transaction holding `item` has committed (or failed). */
  stage(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.opts.maxBatch) void this.flush();
      else this.schedule();
    });
  }

  /** Deliveries the stager holds: waiting for a commit, or in the one running. */
  get pending(): number {
    return this.waiting.length + this.inCommit;
  }

  private schedule(): void {
    const everyone = this.opts.onTheWay !== undefined && this.opts.onTheWay() <= 0;
    if (this.cancelTimer && !(everyone && this.timed)) return;
    this.cancelTimer?.();
    const run = () => {
      this.cancelTimer = null;
      void this.flush();
    };
    this.timed = this.opts.windowMs > 0 && !everyone;
    if (this.timed) {
      const t = setTimeout(run, this.opts.windowMs);
      this.cancelTimer = () => clearTimeout(t);
    } else {
      const t = setImmediate(run);
      this.cancelTimer = () => clearImmediate(t);
    }
  }

  /** Commits the waiting deliveries, group after group; never rejects (each caller hears its own result). */
  private async flush(): Promise<void> {
    // The running commit takes what arrived meanwhile as soon as it has returned.
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.waiting.length) {
        this.cancelTimer?.();
        this.cancelTimer = null;
        const group = this.waiting.splice(0, this.opts.maxBatch);
        this.inCommit = group.length;
        let results: R[];
        try {
          results = await this.commit(group.map((w) => w.item));
        } catch (e) {
          for (const w of group) w.reject(e as Error);
          continue;
        } finally {
          this.inCommit = 0;
        }
        this.stats.commits++;
        this.stats.deliveries += group.length;
        this.stats.largest = Math.max(this.stats.largest, group.length);
        // Only now, the commit holding them returned: their 250s may go out (issue 12.3).
        group.forEach((w, i) => w.resolve(results[i]));
      }
    } finally {
      this.committing = false;
    }
  }
}
