// Where processing runs (issue 12, point 4): on a worker thread of its own with its own database
// connection (the default), so the LMTP sessions, parsing and staging on the main thread and the
// workflow on the other use both cores; or, without a built worker file or with --inline, on the
// main thread between the LMTP turns. Both run the same ProcessQueue (process-queue.ts).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Deps } from "../pipeline/deps.js";
import type { LogLine } from "./log.js";
import { ProcessQueue, type QueueStats, type Task } from "./process-queue.js";

export interface ProcessorStatus {
  queued: number;
  stats: QueueStats;
  thread: "worker" | "main";
}

export interface Processor {
  push(task: Task): void;
  /** What `recover` does, and queue every record left `new`. */
  sweep(why: string): void;
  /** SIGHUP: the main thread's new dependencies (the worker reads the file itself). */
  reload(deps: Deps): void;
  status(): Promise<ProcessorStatus>;
  /** Processes what is queued for at most `ms`, then stops; resolves with how many stay `new`. */
  stop(ms: number): Promise<number>;
}

/** What a worker needs to open its own dependencies: the same options the command was given. */
export interface WorkerSetup {
  db?: string;
  config?: string;
  capacity: number;
  /** The WriteLock both threads share (write-lock.ts); none on PostgreSQL. */
  lock?: SharedArrayBuffer;
}

export type ToWorker = { type: "tasks"; tasks: Task[] } | { type: "sweep"; why: string } | { type: "reload" } | { type: "status"; id: number } | { type: "stop"; ms: number };
export type FromWorker = { type: "status"; id: number; status: ProcessorStatus } | { type: "stopped"; left: number } | { type: "ready" } | { type: "failed"; message: string };

// Next to this module: dist/bundle/serve-worker.cjs (bundle) or dist/src/serve/processor-worker.js (tsc).
function workerFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  const file = join(dirname(here), here.endsWith(".cjs") ? "serve-worker.cjs" : "processor-worker.js");
  return here.endsWith(".ts") || !existsSync(file) ? null : file;
}

// SQLite's automatic checkpoint copies the write-ahead log into the database (and fsyncs it) inside
// whichever commit crosses the threshold, while that commit's thread holds the write lock. The
// per-process path keeps a short log (open.ts: 200 pages); in the daemon a short log rewrites the
// same hot pages (the ends of each table and index) over and over, and a staging commit that
// checkpoints holds up its 250s. So the processing thread checkpoints, every 2,000 pages (8 MB), and
// the stager only past 32,000 pages: a bound for a processing thread that stalls, never reached
// otherwise. Bench, 10,000 mails, run in turn with the 200-page build: at 8 connections acknowledged
// 1,115-1,232 against 833-853 msg/s, processed 724-848 against 610-644; at 32, 1,538-1,813 against
// 1,318-1,358 and 712-840 against 648-658. 4,000 pages gave the same throughput with a p99 time
// to 250 of 38-63 ms at 32 connections (2,000: 33 ms; 1,000: 38-41 ms).
export const PROCESSING_CHECKPOINT_PAGES = 2_000;
export const STAGER_CHECKPOINT_PAGES = 32_000;

export function createProcessor(deps: Deps, setup: WorkerSetup, log: LogLine, inline: boolean): Processor {
  const file = inline ? null : workerFile();
  return file ? new WorkerProcessor(file, setup, log, deps) : new MainThreadProcessor(deps, setup.capacity, log);
}

class MainThreadProcessor implements Processor {
  private readonly queue: ProcessQueue;
  constructor(deps: Deps, capacity: number, private readonly log: LogLine) {
    // Short slices: the LMTP sessions share this thread. It stages and processes: it checkpoints.
    deps.store.checkpointEvery?.(PROCESSING_CHECKPOINT_PAGES);
    this.queue = new ProcessQueue(deps, { capacity, sliceMs: 5 }, log);
  }
  push(task: Task): void {
    this.queue.push(task);
  }
  sweep(why: string): void {
    void sweepLogged(this.queue, why, this.log);
  }
  reload(deps: Deps): void {
    this.queue.setDeps(deps);
  }
  async status(): Promise<ProcessorStatus> {
    return { queued: this.queue.length, stats: this.queue.stats, thread: "main" };
  }
  async stop(ms: number): Promise<number> {
    return drain(this.queue, ms);
  }
}

/** Start and every sweep interval: records left `new` (what `recover` does), then the outbox. Never rejects. */
export async function sweepLogged(queue: ProcessQueue, why: string, log: LogLine): Promise<void> {
  try {
    const queued = await queue.sweep();
    if (queued || why === "start") log(`sweep (${why}): ${queued} staged records left new queued for processing`);
  } catch (e) {
    log(`sweep (${why}) failed: ${(e as Error).message}`);
  }
  queue.retryOutbox().catch((e) => log(`outbox retry failed: ${(e as Error).message}`));
}

export async function drain(queue: ProcessQueue, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([queue.whenIdle(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
  queue.stop();
  await queue.whenIdle();
  return queue.length;
}

class WorkerProcessor implements Processor {
  private readonly worker: Worker;
  /** After the thread failed: processing goes on on the main thread (the sweep finds what it left). */
  private fallback: MainThreadProcessor | null = null;
  private stopping = false;
  private outbox: Task[] = [];
  private flushing = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (s: ProcessorStatus) => void>();
  private stopped: ((left: number) => void) | null = null;
  private last: ProcessorStatus = { queued: 0, stats: { processed: 0, byStatus: {}, overflowed: 0, recovered: 0 }, thread: "worker" };

  constructor(
    file: string,
    private readonly setup: WorkerSetup,
    private readonly log: LogLine,
    private readonly deps: Deps,
  ) {
    // The processing thread checkpoints (processor-worker.ts); a takeover (MainThreadProcessor) resets this.
    deps.store.checkpointEvery?.(STAGER_CHECKPOINT_PAGES);
    this.worker = new Worker(file, { workerData: setup, stdout: false, stderr: false });
    this.worker.on("message", (m: FromWorker) => this.receive(m));
    this.worker.on("error", (e) => this.failed(e.message));
    this.worker.on("exit", (code) => {
      this.stopped?.(this.last.queued);
      if (code !== 0 && !this.stopping) this.failed(`exited with code ${code}`);
    });
  }

  /** The records the thread held are still `new` in the database: the main thread takes over. */
  private failed(why: string): void {
    if (this.fallback || this.stopping) return;
    this.log(`processing thread failed (${why}); processing goes on on the main thread`);
    this.fallback = new MainThreadProcessor(this.deps, this.setup.capacity, this.log);
    this.fallback.sweep("takeover");
  }


  private receive(m: FromWorker): void {
    if (m.type === "status") {
      this.last = m.status;
      this.waiting.get(m.id)?.(m.status);
      this.waiting.delete(m.id);
    } else if (m.type === "stopped") this.stopped?.(m.left);
    else if (m.type === "failed") this.log(`processing thread: ${m.message}`);
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  push(task: Task): void {
    if (this.fallback) return this.fallback.push(task);
    this.outbox.push(task);
    if (this.flushing) return;
    // One message per turn of the event loop, whatever the number of deliveries in it.
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      this.post({ type: "tasks", tasks: this.outbox });
      this.outbox = [];
    });
  }

  sweep(why: string): void {
    if (this.fallback) return this.fallback.sweep(why);
    this.post({ type: "sweep", why });
  }

  reload(deps: Deps): void {
    if (this.fallback) return this.fallback.reload(deps);
    this.post({ type: "reload" });
  }

  status(): Promise<ProcessorStatus> {
    if (this.fallback) return this.fallback.status();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: "status", id });
      // A busy or dead worker: answer with the last known figures.
      setTimeout(() => {
        if (this.waiting.delete(id)) resolve(this.last);
      }, 1000).unref();
    });
  }

  async stop(ms: number): Promise<number> {
    this.stopping = true;
    if (this.fallback) {
      await this.worker.terminate();
      return this.fallback.stop(ms);
    }
    if (this.outbox.length) this.post({ type: "tasks", tasks: this.outbox.splice(0) });
    const left = await new Promise<number>((resolve) => {
      this.stopped = resolve;
      this.post({ type: "stop", ms });
    });
    // Its last log lines travel to this thread's stderr asynchronously.
    await new Promise((r) => setTimeout(r, 50));
    await this.worker.terminate();
    return left;
  }
}
