// A racer of the store contract on SQLite: its own connection in its own thread, as another
// ingest process would have. (Two SQLite stores in one thread cannot race: the second one's busy
// wait blocks the thread, the first never gets to commit, and the second ends in SQLITE_BUSY.)
// Started by store.test.ts through tsx; runs scenarios (store-scenarios.ts) on request.
import { parentPort, workerData } from "node:worker_threads";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { scenarios, type ScenarioName } from "./store-scenarios.js";

const port = parentPort!;
const { target, busyTimeoutMs } = workerData as { target: string; busyTimeoutMs: number };
const store = openSqliteStore(target, { busyTimeoutMs });

port.on("message", (m: { id: number; name: ScenarioName | "close"; args: unknown }) => {
  void (async () => {
    try {
      if (m.name === "close") {
        await store.close();
        port.postMessage({ id: m.id, result: null });
        port.close();
        return;
      }
      const run = scenarios[m.name] as (db: typeof store, args: unknown) => Promise<unknown>;
      port.postMessage({ id: m.id, result: await run(store, m.args) });
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  })();
});
port.postMessage({ ready: true });
