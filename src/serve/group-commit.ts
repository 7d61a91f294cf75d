// Group commit (issue 12, point 3): deliveries that finish DATA while a staging commit is running,
// or within a short window after the first of them, are staged together in one durable transaction
// and share its fsync. Each caller's promise settles only after the commit that holds its message
// has returned, so no 250 goes out before its message is on disk.
//
// The commit is synchronous (better-sqlite3): while it waits for the disk the event loop stands
// still, the kernel buffers what the clients send meanwhile, and the next group is the larger for
// it. That is what keeps the number of fsyncs per second bounded under load.

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
  readonly stats: GroupStats = { commits: 0, deliveries: 0, largest: 0 };

  constructor(
    /** Stages the group in one transaction; returns one result per item, in order. */
    private readonly commit: (items: I[]) => R[],
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Settles once the transaction holding `item` has committed (or failed). */
  stage(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.opts.maxBatch) this.flush();
      else this.schedule();
    });
  }

  get pending(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    const everyone = this.opts.onTheWay !== undefined && this.opts.onTheWay() <= 0;
    if (this.cancelTimer && !(everyone && this.timed)) return;
    this.cancelTimer?.();
    const run = () => {
      this.cancelTimer = null;
      this.flush();
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

  private flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    while (this.waiting.length) {
      const group = this.waiting.splice(0, this.opts.maxBatch);
      let results: R[];
      try {
        results = this.commit(group.map((w) => w.item));
      } catch (e) {
        for (const w of group) w.reject(e as Error);
        continue;
      }
      this.stats.commits++;
      this.stats.deliveries += group.length;
      this.stats.largest = Math.max(this.stats.largest, group.length);
      group.forEach((w, i) => w.resolve(results[i]));
    }
  }
}
