// The processing thread of `serve` (processor.ts): its own database connection and dependencies,
// the same ProcessQueue, the same processStaged as the per-process path. The main thread sends the
// ids it staged; records it could not hand over stay `new` and the sweeps find them.
import { parentPort, workerData } from "node:worker_threads";
import { loadCommonConfig, makeDeps } from "../cli/context.js";
import { withConfig } from "./deps.js";
import { stderrLog } from "./log.js";
import { ProcessQueue } from "./process-queue.js";
import { lockWrites, WriteLock } from "./write-lock.js";
import { drain, sweepLogged, type FromWorker, type ToWorker, type WorkerSetup } from "./processor.js";

const setup = workerData as WorkerSetup;
const log = stderrLog("process");
const opts = { db: setup.db, config: setup.config };
let deps = makeDeps(opts);
if (setup.lock) lockWrites(deps.db.$client, new WriteLock(setup.lock, deps.config.busyTimeoutMs));
// Long slices: nothing else runs on this thread but the messages from the main thread.
const queue = new ProcessQueue(deps, { capacity: setup.capacity, sliceMs: 50 }, log);
const send = (m: FromWorker) => parentPort!.postMessage(m);

parentPort!.on("message", async (m: ToWorker) => {
  switch (m.type) {
    case "tasks":
      for (const t of m.tasks) queue.push(t);
      return;
    case "sweep":
      return sweepLogged(queue, m.why, log);
    case "reload":
      try {
        deps = withConfig(deps, loadCommonConfig(opts));
        queue.setDeps(deps);
      } catch (e) {
        send({ type: "failed", message: `configuration NOT reloaded: ${(e as Error).message}` });
      }
      return;
    case "status":
      return send({ type: "status", id: m.id, status: { queued: queue.length, stats: queue.stats, thread: "worker" } });
    case "stop": {
      const left = await drain(queue, m.ms);
      deps.db.$client.close();
      return send({ type: "stopped", left });
    }
  }
});
