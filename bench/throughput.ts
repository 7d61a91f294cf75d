// In-process throughput: 1,000 generated 4 KB mails through `ingest()` in a loop, as `import` would
// run them; target ≥ 2,000 messages/s (issue 5). Shown with synchronous=FULL (each mail durably
// committed, as the stdin path must), with NORMAL (import may relax: its source files remain), and
// the parse stage alone for reference.
import { join } from "node:path";
import { Readable } from "node:stream";
import { makeDeps } from "../src/cli/context.js";
import { ingest } from "../src/pipeline/ingest.js";
import { parseMail } from "../src/pipeline/parse.js";
import { mail4k, mainModule, tempDir } from "./measure.js";

const COUNT = Number(process.env.BENCH_MESSAGES ?? 1000);

export async function run(): Promise<void> {
  console.log(`in-process throughput, ${COUNT} generated 4 KB mails (half new issues from 50 senders, half replies by subject reference)`);
  const mails = (offset: number) => Array.from({ length: COUNT }, (_, i) => mail4k(offset + i, i % 2 ? { subject: `Re: [CS-${String((i % 50) + 1).padStart(6, "0")}] more` } : {}));

  // Parse only: the ceiling for the rest of the pipeline.
  const dir0 = tempDir("parse");
  const parseInput = mails(0);
  let t = process.hrtime.bigint();
  for (const m of parseInput) await parseMail(Readable.from([m]), join(dir0, "attachments"));
  report("parse only (mailparser)", t);

  for (const synchronous of ["FULL", "NORMAL"] as const) {
    const dir = tempDir(`throughput-${synchronous}`);
    const deps = makeDeps({ db: join(dir, "ingest.db"), synchronous }, { HOME: dir });
    const input = mails(synchronous === "FULL" ? 100_000 : 200_000);
    const statuses = new Map<string, number>();
    t = process.hrtime.bigint();
    for (const m of input) {
      const out = await ingest(deps, Readable.from([m]), { recipient: null, sender: null }, { source: "import", durable: synchronous === "FULL" });
      statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
    }
    report(`ingest(), synchronous=${synchronous}`, t, [...statuses].map(([s, n]) => `${n} ${s}`).join(", "));
    deps.db.$client.close();
  }
}

function report(name: string, start: bigint, note = ""): void {
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`  ${name.padEnd(34)} ${(COUNT / s).toFixed(0).padStart(6)} msg/s   ${((s * 1000) / COUNT).toFixed(2)} ms/msg${note ? `   (${note})` : ""}${name.startsWith("ingest") ? "   target ≥ 2000" : ""}`);
}

mainModule(import.meta.url, run);
