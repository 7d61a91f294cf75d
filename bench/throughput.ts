// In-process throughput: 1,000 generated 4 KB mails through `ingest()` in a loop, as `import` would
// run them; target ≥ 2,000 messages/s (issue 5). Shown with a durable (fsynced) staging commit per
// mail, as the stdin path must, without it (import: its source files remain), batched, and the parse
// stage alone for reference.
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { makeDeps } from "../src/cli/context.js";
import { ingest } from "../src/pipeline/ingest.js";
import { parseMail } from "../src/pipeline/parse.js";
import { mail4k, mainModule, tempDir } from "./measure.js";

const COUNT = Number(process.env.BENCH_MESSAGES ?? 1000);

export async function run(): Promise<void> {
  console.log(`in-process throughput, ${COUNT} generated 4 KB mails (half new, half naming a reference in the subject), node ${process.version}, load ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  const mails = (offset: number) => Array.from({ length: COUNT }, (_, i) => mail4k(offset + i, i % 2 ? { subject: `Re: [CS-${String((i % 50) + 1).padStart(6, "0")}] more` } : {}));

  // Parse only: the ceiling for the rest of the pipeline.
  const dir0 = tempDir("parse");
  const parseInput = mails(0);
  let t = start();
  for (const m of parseInput) await parseMail(Readable.from([m]), join(dir0, "attachments"));
  report("parse only (mailparser)", t);

  const variants = [
    { name: "ingest(), durable staging (stdin)", durable: true, batch: 1 },
    { name: "ingest(), durable: false (import)", durable: false, batch: 1 },
    // An outer transaction around 100 mails (the inner transactions become savepoints).
    { name: "durable: false, 100 per commit", durable: false, batch: 100 },
  ];
  for (const [k, v] of variants.entries()) {
    const dir = tempDir(`throughput-${k}`);
    const deps = makeDeps({ db: join(dir, "ingest.db") }, { HOME: dir });
    const input = mails((k + 1) * 100_000);
    const statuses = new Map<string, number>();
    t = start();
    for (const [i, m] of input.entries()) {
      if (v.batch > 1 && i % v.batch === 0) deps.db.$client.exec("BEGIN IMMEDIATE");
      const out = await ingest(deps, Readable.from([m]), { recipient: null, sender: null }, { source: "import", durable: v.durable });
      statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
      if (v.batch > 1 && (i % v.batch === v.batch - 1 || i === input.length - 1)) deps.db.$client.exec("COMMIT");
    }
    report(v.name, t, [...statuses].map(([s, n]) => `${n} ${s}`).join(", "));
    deps.db.$client.close();
  }
}

const start = () => ({ wall: process.hrtime.bigint(), cpu: process.cpuUsage() });

/** Messages per second of wall time, and per second of this process's CPU time (what the machine's
 * other load does not change; wall also counts fsync waits). */
function report(name: string, t: ReturnType<typeof start>, note = ""): void {
  const wall = Number(process.hrtime.bigint() - t.wall) / 1e9;
  const c = process.cpuUsage(t.cpu);
  const cpu = (c.user + c.system) / 1e6;
  console.log(
    `  ${name.padEnd(36)} ${(COUNT / wall).toFixed(0).padStart(6)} msg/s wall  ${(COUNT / cpu).toFixed(0).padStart(6)} msg/s cpu   ${((cpu * 1000) / COUNT).toFixed(2)} ms cpu/msg` +
      `${name.startsWith("parse") ? "" : "   target ≥ 2000"}${note ? `   (${note})` : ""}`,
  );
}

mainModule(import.meta.url, run);
