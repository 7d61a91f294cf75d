// Runs read + parse (prepare) for `import` on worker threads, while the main thread stages and
// processes earlier messages: on two cores parsing and the database work overlap (issue 5:
// throughput). Results come back in any order; callers await them in the order they asked.
// Without a built worker file (tests running the TypeScript sources) or with workers: 0, the
// same work runs on the calling thread.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { readSourceFile } from "../sources/files.js";
import { prepare, type Prepared, type PrepareSettings } from "./ingest.js";

/** One message: a file that is the whole message, or its bytes. */
export type PrepareSource = { file: string } | { bytes: Uint8Array };

export type PrepareRequest = PrepareSource & { id: number };

export type PrepareReply = { id: number; prepared: Prepared } | { id: number; error: { name: string; message: string; code?: string } };

/** Structured clone delivers Buffers as plain Uint8Arrays; the pipeline expects Buffers. */
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The message's bytes, on whichever thread prepares it. */
export const bytesOf = (source: PrepareSource): Buffer => ("file" in source ? readSourceFile(source.file) : asBuffer(source.bytes));

/** Worker threads worth starting here: one per spare core, the main thread keeps one. */
export function defaultWorkers(): number {
  return Math.min(3, Math.max(0, availableParallelism() - 1));
}

// Next to this module: dist/bundle/prepare-worker.cjs (bundle) or dist/src/pipeline/prepare-worker.js (tsc).
function workerFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  const file = join(dirname(here), here.endsWith(".cjs") ? "prepare-worker.cjs" : "prepare-worker.js");
  return here.endsWith(".ts") || !existsSync(file) ? null : file;
}

// Requests go out in batches of this many (or fewer, once the caller waits).
const BATCH = 8;

export class PreparePool {
  private readonly workers: Worker[] = [];
  private outbox: PrepareRequest[] = [];
  private flushScheduled = false;
  private turn = 0;
  private readonly waiting = new Map<number, { resolve: (p: Prepared) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(
    private readonly settings: PrepareSettings,
    workers = defaultWorkers(),
  ) {
    const file = workers > 0 ? workerFile() : null;
    if (!file) return;
    for (let i = 0; i < workers; i++) {
      const w = new Worker(file, { workerData: settings });
      w.on("message", (replies: PrepareReply[]) => this.settleAll(replies));
      // A worker that dies takes its messages with it: fail them (import reports them as not stored).
      w.on("error", (e) => this.failAll(e));
      w.on("exit", (code) => code !== 0 && this.failAll(new Error(`prepare worker exited with code ${code}`)));
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Read and parse one message: a file that is the whole message, or its bytes. */
  prepare(source: PrepareSource): Promise<Prepared> {
    if (!this.workers.length) return (async () => prepare([bytesOf(source)], this.settings))();
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Prepared>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.outbox.push({ id, ...source });
      if (this.outbox.length >= BATCH) this.flush();
      else if (!this.flushScheduled) {
        // Whatever is left goes out before the caller's next turn of the event loop.
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.outbox.length) return;
    this.workers[this.turn++ % this.workers.length].postMessage(this.outbox);
    this.outbox = [];
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private settleAll(replies: PrepareReply[]): void {
    for (const r of replies) this.settle(r);
  }

  private settle(reply: PrepareReply): void {
    const w = this.waiting.get(reply.id);
    if (!w) return;
    this.waiting.delete(reply.id);
    if ("error" in reply) w.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }));
    else {
      const { raw } = reply.prepared;
      if (raw.buffer) raw.buffer = asBuffer(raw.buffer);
      w.resolve(reply.prepared);
    }
  }

  private failAll(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
