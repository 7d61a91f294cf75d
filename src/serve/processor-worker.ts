// The processing thread of `serve` (processor.ts): its own store (connection) and dependencies,
// the same ProcessQueue, the same processStaged as the per-process path. The main thread sends the
// ids it staged; records it could not hand over stay `new` and the sweeps find them.
import { parentPort, workerData } from "node:worker_threads";
import { loadCommonConfig, makeDeps } from "../cli/context.js";
import type { Deps } from "../pipeline/deps.js";
import { withConfig } from "./deps.js";
import { stderrLog } from "./log.js";
import { ProcessQueue } from "./process-queue.js";
import { WriteLock } from "./write-lock.js";
import { drain, PROCESSING_CHECKPOINT_PAGES, sweepLogged, type FromWorker, type ToWorker, type WorkerSetup } from "./processor.js";

const setup = workerData as WorkerSetup;
const log = stderrLog("process");
const opts = { db: setup.db, config: setup.config };
const send = (m: FromWorker) => parentPort!.postMessage(m);

interface Thread {
  deps: Deps;
  queue: ProcessQueue;
}

// Opening the store is asynchronous; the bundle (serve-worker.cjs) has no top-level await. Messages
// wait for it, in the order they came.
async function start(): Promise<Thread> {
  const config = loadCommonConfig(opts);
  // SQLite: write transactions take turns with the main thread's staging, which goes first (no
  // lock is passed for PostgreSQL).
  const writeTurn = setup.lock ? new WriteLock(setup.lock, config.busyTimeoutMs) : undefined;
  const deps = await makeDeps(opts, process.env, config, { writeTurn });
  deps.store.checkpointEvery?.(PROCESSING_CHECKPOINT_PAGES);
  // Long slices, and records processed in batches: nothing else runs on this thread but the
  // messages from the main thread. A batch commits early when staging waits for the lock, so a
  // 250 waits for one mail's workflow at most (bench: time to 250).
  const yieldWhen = writeTurn ? () => writeTurn.stagerWaiting() : undefined;
  return { deps, queue: new ProcessQueue(deps, { capacity: setup.capacity, sliceMs: 50, batch: 32, yieldWhen }, log) };
}

const ready = start();
// A store that cannot be opened ends the thread with that error; the main thread takes over (processor.ts).
void ready.catch((e: unknown) =>
  process.nextTick(() => {
    throw e;
  }),
);

async function handle(t: Thread, m: ToWorker): Promise<void> {
  switch (m.type) {
    case "tasks":
      for (const task of m.tasks) t.queue.push(task);
      return;
    case "sweep":
      return sweepLogged(t.queue, m.why, log);
    case "reload":
      try {
        t.deps = withConfig(t.deps, loadCommonConfig(opts));
        t.queue.setDeps(t.deps);
      } catch (e) {
        send({ type: "failed", message: `configuration NOT reloaded: ${(e as Error).message}` });
      }
      return;
    case "status":
      return send({ type: "status", id: m.id, status: { queued: t.queue.length, stats: t.queue.stats, thread: "worker" } });
    case "stop": {
      const left = await drain(t.queue, m.ms);
      await t.deps.store.close();
      return send({ type: "stopped", left });
    }
  }
}

parentPort!.on("message", (m: ToWorker) => void ready.then((t) => handle(t, m), () => undefined));
