// A worker thread for `import`: runs the first two stages (read, parse) on messages the main thread
// names, so parsing the next messages overlaps with the main thread's database work. No database
// here; the main thread stages and processes in the order the messages came. Requests and replies
// travel in batches: one message per postMessage cost more than parsing a small mail.
import { parentPort, workerData } from "node:worker_threads";
import { prepare, type PrepareSettings } from "./ingest.js";
import { bytesOf, type PrepareReply, type PrepareRequest } from "./prepare-pool.js";

const settings = workerData as PrepareSettings;

async function one(req: PrepareRequest): Promise<PrepareReply> {
  try {
    return { id: req.id, prepared: await prepare([bytesOf(req)], settings) };
  } catch (e) {
    const { name, message, code } = e as Error & { code?: string };
    return { id: req.id, error: { name, message, code } };
  }
}

parentPort?.on("message", async (batch: PrepareRequest[]) => {
  const replies: PrepareReply[] = [];
  for (const req of batch) replies.push(await one(req));
  parentPort!.postMessage(replies);
});
