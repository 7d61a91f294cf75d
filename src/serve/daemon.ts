// `ingest-mail serve`: one long-running process that takes mail from the MTA over LMTP, stages each
// recipient's copy durably before its 250 (group commit), then processes it from a bounded queue
// with the per-process path's own functions. The pieces, each in its own file beside this one:
//   address.ts (where to listen) → lmtp.ts (the protocol replies) → group-commit.ts + stage-adapter.ts
//   (staging) → process-queue.ts (processing, recovery) → signals.ts (SIGTERM, SIGHUP, SIGUSR1).
import { chmodSync, existsSync, lstatSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { purgeOnSchedule, retentionSchedule } from "../maintenance/retention-schedule.js";
import type { Deps } from "../pipeline/deps.js";
import { describeAddress, type ListenAddress } from "./address.js";
import { GroupCommit } from "./group-commit.js";
import { createLmtpServer, type LmtpState } from "./lmtp.js";
import type { LogLine } from "./log.js";
import { createProcessor, type Processor, type WorkerSetup } from "./processor.js";
import { discardDelivery, readDelivery, stageDeliveries, type Delivery, type RecipientResult } from "./stage-adapter.js";
import { lockUse, type LockUse } from "./write-lock.js";

export interface DaemonOptions {
  address: ListenAddress;
  maxConnections: number;
  maxBytesInFlight: number;
  queueCapacity: number;
  /** How long SIGTERM waits for transactions and the queue before leaving the rest `new` (s). */
  drainSeconds: number;
  /** How often the daemon recovers `new` records and retries the outbox (s). */
  sweepSeconds: number;
  groupWindowMs: number;
  socketMode: number;
  /** Process on the main thread instead of a worker thread of its own. */
  inline: boolean;
  /**
   * What the processing thread opens: the command's --db / --config, and on SQLite the buffer of
   * the write lock `deps.store` was opened with (cli/commands/serve.ts: openDeps).
   */
  worker: Omit<WorkerSetup, "capacity">;
}

export interface DaemonStatus {
  address: string;
  uptimeSeconds: number;
  sessions: number;
  transactions: number;
  bytesInFlight: number;
  delivered: number;
  refused: number;
  queued: number;
  processed: number;
  byStatus: Record<string, number>;
  processingThread: "worker" | "main";
  commits: number;
  largestGroup: number;
  recovered: number;
  rssBytes: number;
  /**
   * SQLite: how the two threads have shared the one writer since the start (serve/write-lock.ts;
   * with --inline processing counts as staging). Null on PostgreSQL, which has no such lock.
   */
  writeLock: { staging: LockUse; processing: LockUse } | null;
}

export class Daemon {
  private readonly state: LmtpState = { draining: false, bytesInFlight: 0, transactions: 0, sessions: 0, delivered: 0, refused: 0 };
  private readonly stager: GroupCommit<Delivery, RecipientResult[]>;
  private readonly processor: Processor;
  private readonly server;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Issue 14: the configured retention, once a day at a sweep (src/maintenance/retention-schedule.ts). */
  private readonly retention = retentionSchedule(() => this.deps);
  private readonly started = Date.now();
  private stopping: Promise<void> | null = null;
  /** The retention purge a sweep started: the store is closed only after it. */
  private purging: Promise<void> = Promise.resolve();
  private stopped!: () => void;
  /** Resolves once the daemon has shut down (SIGTERM → drained → closed). */
  readonly done = new Promise<void>((r) => (this.stopped = r));

  constructor(
    private deps: Deps,
    private readonly opts: DaemonOptions,
    private readonly log: LogLine,
  ) {
    this.stager = new GroupCommit((items) => stageDeliveries(this.deps, items), {
      windowMs: opts.groupWindowMs,
      maxBatch: 256,
      // Transactions past DATA that have not reached the stager yet.
      onTheWay: () => this.state.transactions - this.stager.pending,
    });
    this.processor = createProcessor(deps, { ...opts.worker, capacity: opts.queueCapacity }, log, opts.inline);
    this.server = createLmtpServer(
      { maxMessageBytes: deps.config.limits.maxMessageBytes, maxConnections: opts.maxConnections, maxBytesInFlight: opts.maxBytesInFlight },
      {
        read: (chunks) => readDelivery(this.deps, chunks),
        discard: discardDelivery,
        stager: this.stager,
        staged: (results) => {
          // A duplicate (or a record given up on) needs nothing more; a takeover is processed like a new one.
          for (const r of results) if (r.kind === "staged" || r.kind === "takeover") this.processor.push({ id: r.stagedId, staged: r });
        },
        log,
      },
      this.state,
    );
    this.server.on("error", (e: Error) => log(`server error: ${e.message}`));
  }

  /** Listens, then finishes what an earlier run left `new`. */
  async start(): Promise<void> {
    const a = this.opts.address;
    if (a.kind === "unix") await removeStaleSocket(a.path);
    // The socket is created with the wanted permissions, not widened for a moment before a chmod.
    const umask = a.kind === "unix" ? process.umask(~this.opts.socketMode & 0o777) : null;
    await new Promise<void>((resolve, reject) => {
      this.server.server.once("error", reject);
      const ready = () => {
        this.server.server.off("error", reject);
        resolve();
      };
      if (a.kind === "unix") this.server.listen(a.path, ready);
      else if (a.kind === "fd") this.server.listen({ fd: a.fd }, ready);
      else this.server.listen(a.port, a.host, ready);
    }).finally(() => {
      if (umask !== null) process.umask(umask);
    });
    if (a.kind === "unix") chmodSync(a.path, this.opts.socketMode);
    this.log(`listening on ${describeAddress(a)} (LMTP, SIZE ${this.deps.config.limits.maxMessageBytes}, database ${this.deps.paths.db})`);
    this.sweep("start");
    this.sweepTimer = setInterval(() => this.sweep("periodic"), this.opts.sweepSeconds * 1000);
    this.sweepTimer.unref();
  }

  /** Start and every sweepSeconds: records left `new`, stuck records, the outbox (processor.ts). */
  private sweep(why: string): void {
    this.processor.sweep(why);
    this.purging = this.purging.then(() => purgeOnSchedule(this.retention, this.log));
  }

  /** SIGHUP: the configuration file is read again; the database and the listen address stay. */
  reload(next: Deps): void {
    this.deps = next;
    this.processor.reload(next);
    this.server.options.size = next.config.limits.maxMessageBytes;
    this.log(`configuration reloaded (SIZE ${next.config.limits.maxMessageBytes})`);
  }

  async status(): Promise<DaemonStatus> {
    const p = await this.processor.status();
    return {
      address: describeAddress(this.opts.address),
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      sessions: this.state.sessions,
      transactions: this.state.transactions,
      bytesInFlight: this.state.bytesInFlight,
      delivered: this.state.delivered,
      refused: this.state.refused,
      queued: p.queued,
      processed: p.stats.processed,
      byStatus: p.stats.byStatus,
      processingThread: p.thread,
      commits: this.stager.stats.commits,
      largestGroup: this.stager.stats.largest,
      recovered: p.stats.recovered,
      rssBytes: process.memoryUsage.rss(),
      writeLock: this.opts.worker.lock ? lockUse(this.opts.worker.lock) : null,
    };
  }

  /**
   * SIGTERM: new sessions and new transactions get 421; transactions in flight finish (their
   * replies are sent); the queue is processed for at most drainSeconds; what is left stays `new`
   * for the next start. Then the listener and the database close.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state.draining = true;
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      this.log(`stopping: ${this.state.transactions} transactions in flight`);
      const deadline = Date.now() + this.opts.drainSeconds * 1000;
      while (this.state.transactions > 0 && Date.now() < deadline) await sleep(20);
      // Sessions between transactions are told to go (421) and closed.
      for (const c of this.server.connections) {
        c.send(421, "shutting down, try again later");
        c.close();
      }
      const left = await this.processor.stop(Math.max(0, deadline - Date.now()));
      await new Promise<void>((r) => this.server.close(() => r()));
      await this.purging;
      // A staging still waiting for another process's lock (PostgreSQL's lock_timeout is busyTimeoutMs)
      // is not waited for past the drain time: nothing of it was acknowledged, the MTA delivers again,
      // and the exit ends its transaction unfinished.
      await Promise.race([this.deps.store.close(), sleep(Math.max(1000, deadline - Date.now()))]);
      this.log(`stopped${left ? ` (drain time over: ${left} records stay new for the next start)` : ""}`);
      this.stopped();
    })();
    return this.stopping;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A socket file left by a daemon that died; refuses to take over one that still answers. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw Object.assign(new Error(`${path} exists and is not a socket`), { code: "EEXIST" });
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (alive) throw Object.assign(new Error(`another daemon is listening on ${path}`), { code: "EADDRINUSE" });
  rmSync(path, { force: true });
}
