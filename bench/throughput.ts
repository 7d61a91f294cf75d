// In-process throughput, target ≥ 2,000 messages/s for 4 KB mails (issue 5): the import pipeline
// (worker threads parse, the main thread stores, 100 per commit) once warmed up, and its two halves
// alone. Then `ingest()` in a loop on one thread, as a fresh process runs it: with a durable
// (fsynced) staging commit per mail, as the stdin path must, without it, and batched.
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { makeDeps } from "../src/cli/context.js";
import { ingest, ingestRaw, prepare, prepareSettings, type Prepared } from "../src/pipeline/ingest.js";
import { defaultWorkers, PreparePool } from "../src/pipeline/prepare-pool.js";
import { mail4k, mainModule, tempDir } from "./measure.js";

const COUNT = Number(process.env.BENCH_MESSAGES ?? 1000);

export async function run(): Promise<void> {
  console.log(`in-process throughput, ${COUNT} generated 4 KB mails (half new, half naming a reference in the subject), node ${process.version}, load ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  const mails = (offset: number) => Array.from({ length: COUNT }, (_, i) => mail4k(offset + i, i % 2 ? { subject: `Re: [CS-${String((i % 50) + 1).padStart(6, "0")}] more` } : {}));

  // The halves, each warmed up first on mail of its own (a fresh process runs slower for its
  // first thousand or so mails while the JIT compiles).
  const dir0 = tempDir("halves");
  const deps0 = await makeDeps({ db: join(dir0, "ingest.db") }, { HOME: dir0 }, undefined, { create: true });
  const settings = prepareSettings(deps0, { durable: false });
  const prepared: Prepared[] = [];
  for (const m of mails(900_000)) prepared.push(await prepare([m], settings));
  const warm = prepared.splice(0);
  let t = start();
  for (const m of mails(0)) prepared.push(await prepare([m], settings));
  report("read + parse alone (worker side)", t);
  const batched = async (list: Prepared[]) => {
    for (let i = 0; i < list.length; i += 100)
      await deps0.db.write(async (db) => {
        for (const p of list.slice(i, i + 100)) await ingestRaw({ ...deps0, db }, p.raw, { recipient: null, sender: null }, { source: "import", durable: false, parsed: p.parsed });
      });
  };
  await batched(warm);
  t = start();
  await batched(prepared);
  report("stage + process alone (main side)", t);
  await deps0.store.close();

  // The import pipeline as `import` runs it: worker threads read and parse ahead, the main thread
  // stores in order, 100 per commit. Warmed on 5,000 mails first (into a database of their own): a
  // fresh process needs thousands of mails before it runs at full speed (JIT, heap sizing), which
  // the `import` runs below include.
  const workers = defaultWorkers();
  const pipeline = async (pool: PreparePool, offset: number, n: number) => {
    const dir = tempDir(`pipeline-${offset}`);
    const deps = await makeDeps({ db: join(dir, "ingest.db") }, { HOME: dir }, undefined, { create: true });
    const queue: Promise<Prepared>[] = [];
    // 100 per commit: the store's batch (a write transaction; each mail's own becomes a savepoint).
    const settle = (k: number) =>
      deps.db.write(async (db) => {
        for (let j = 0; j < k && queue.length; j++) {
          const p = await queue.shift()!;
          await ingestRaw({ ...deps, db }, p.raw, { recipient: null, sender: null }, { source: "import", durable: false, parsed: p.parsed });
        }
      });
    for (let i = 0; i < n; i++) {
      queue.push(pool.prepare({ bytes: mail4k(offset + i, i % 2 ? { subject: `Re: [CS-${String((i % 50) + 1).padStart(6, "0")}] more` } : {}) }));
      if (queue.length >= 164) await settle(100);
    }
    while (queue.length) await settle(100);
    await deps.store.close();
  };
  const pool = new PreparePool(settings, workers);
  await pipeline(pool, 800_000, 5000);
  t = start();
  await pipeline(pool, 700_000, 2 * COUNT);
  report(`import pipeline, ${pool.threads} worker thread(s), warm`, t, "", 2 * COUNT);
  await pool.close();

  const variants = [
    { name: "ingest(), durable staging (stdin)", durable: true, batch: 1 },
    { name: "ingest(), durable: false (import)", durable: false, batch: 1 },
    // An outer transaction around 100 mails (the inner transactions become savepoints).
    { name: "durable: false, 100 per commit", durable: false, batch: 100 },
  ];
  for (const [k, v] of variants.entries()) {
    const dir = tempDir(`throughput-${k}`);
    const deps = await makeDeps({ db: join(dir, "ingest.db") }, { HOME: dir }, undefined, { create: true });
    const input = mails((k + 1) * 100_000);
    const statuses = new Map<string, number>();
    const one = async (d: typeof deps, m: Buffer) => {
      const out = await ingest(d, Readable.from([m]), { recipient: null, sender: null }, { source: "import", durable: v.durable });
      statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
    };
    t = start();
    for (let i = 0; i < input.length; i += v.batch) {
      if (v.batch === 1) await one(deps, input[i]);
      else await deps.db.write(async (db) => {
        for (const m of input.slice(i, i + v.batch)) await one({ ...deps, db }, m);
      });
    }
    report(v.name, t, [...statuses].map(([s, n]) => `${n} ${s}`).join(", "));
    await deps.store.close();
  }
}

const start = () => ({ wall: process.hrtime.bigint(), cpu: process.cpuUsage() });

/** Messages per second of wall time, and per second of this process's CPU time (what the machine's
 * other load does not change; wall also counts fsync waits). */
function report(name: string, t: ReturnType<typeof start>, note = "", count = COUNT): void {
  const wall = Number(process.hrtime.bigint() - t.wall) / 1e9;
  const c = process.cpuUsage(t.cpu);
  const cpu = (c.user + c.system) / 1e6;
  console.log(
    `  ${name.padEnd(44)} ${(count / wall).toFixed(0).padStart(6)} msg/s wall  ${(count / cpu).toFixed(0).padStart(6)} msg/s cpu (all threads)   ${((cpu * 1000) / count).toFixed(2)} ms cpu/msg` +
      `${name.includes("alone") ? "" : "   target ≥ 2000"}${note ? `   (${note})` : ""}`,
  );
}

mainModule(import.meta.url, run);
