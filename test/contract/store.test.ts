// The store contract (store.ts) on both engines: SQLite on a temporary file, its racers in worker
// threads (each its own connection, as separate ingest processes); PostgreSQL on a fresh database
// of the run's test server (or a server of this file's own), its racers stores of their own in
// this process. PostgreSQL is skipped, with the reason, only where no server can be started.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { postgresForSuite } from "../helpers/pg-suite.js";
import { inProcessRacers, storeContract, type Racer } from "./store.js";
import { adminQueriesContract } from "./store-admin.js";

const BUSY_MS = 10_000;
const dir = mkdtempSync(join(tmpdir(), "ingest-mail-store-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

storeContract({
  name: "sqlite",
  fresh: async () => join(dir, `db-${++files}.db`),
  open: async (path) => openSqliteStore(path, { busyTimeoutMs: BUSY_MS }),
  racers: (path, n) => Promise.all(Array.from({ length: n }, () => workerRacer(path))),
  serialWriters: true,
});
adminQueriesContract({ name: "sqlite", fresh: async () => join(dir, `db-${++files}.db`), open: async (path) => openSqliteStore(path, { busyTimeoutMs: BUSY_MS }) });

/** A racer in a worker thread (store-worker.ts, loaded through tsx as vitest does not reach workers). */
async function workerRacer(target: string): Promise<Racer> {
  const file = fileURLToPath(new URL("./store-worker.ts", import.meta.url));
  const boot = `import("tsx/esm/api").then((m) => m.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(boot, { eval: true, workerData: { target, busyTimeoutMs: BUSY_MS } });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { ready?: true; id: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve();
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`racer: ${m.error}`));
      else w?.resolve(m.result);
    });
    worker.on("error", (e) => {
      reject(e);
      fail(e);
    });
    worker.on("exit", (code) => fail(new Error(`racer exited (${code})`)));
  });
  await ready;
  const call = (name: string, args: unknown) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = ++next;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, name, args });
    });
  return {
    run: ((name: string, args: unknown) => call(name, args)) as Racer["run"],
    close: async () => {
      await call("close", null).catch(() => {});
      await worker.terminate();
    },
  };
}

const pgSuite = postgresForSuite("store contract");
if (pgSuite) {
  const { server: current } = pgSuite;
  // Loaded here, as the program loads it: only for a postgres URL.
  const { openPostgresStore } = await import("../../src/store/postgres/engine.js");
  const open = (url: string) => openPostgresStore(url, { busyTimeoutMs: BUSY_MS });
  storeContract({
    name: "postgres",
    fresh: () => current().createDatabase(),
    open,
    racers: (url, n) => inProcessRacers(() => open(url), n),
    serialWriters: false,
  });
  adminQueriesContract({ name: "postgres", fresh: () => current().createDatabase(), open });
}
