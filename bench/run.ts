// `npm run bench`: the sub-benchmarks, run one after another; each prints its own line.
// `node dist/bench/run.js NAME...` runs only those named.
import { run as abuse } from "./abuse.js";
import { run as coldStart } from "./cold-start.js";
import { importRuns } from "./import.js";
import { lmtpRuns } from "./lmtp.js";
import { run as memory } from "./memory.js";
import { run as postgres } from "./postgres.js";
import { run as replies } from "./replies.js";
import { run as stage } from "./stage.js";
import { run as throughput } from "./throughput.js";
import { run as web } from "./web.js";

interface Bench {
  name: string;
  /** Prints its own lines, or returns them. */
  run: () => Promise<string | void> | string;
}

const benches: Bench[] = [
  { name: "cold-start", run: coldStart },
  { name: "throughput", run: throughput },
  { name: "import", run: importRuns },
  { name: "memory", run: memory },
  { name: "stage", run: stage },
  { name: "replies", run: () => replies() },
  { name: "web", run: web },
  { name: "lmtp", run: () => lmtpRuns() },
  { name: "abuse", run: abuse },
  // Issue 11.9: the same figures on the PostgreSQL engine (a private server; skipped without one).
  { name: "postgres", run: postgres },
];

async function main(names: string[]): Promise<void> {
  const chosen = names.length ? benches.filter((b) => names.includes(b.name)) : benches;
  if (names.length && chosen.length !== names.length) throw new Error(`unknown benchmark; known: ${benches.map((b) => b.name).join(", ")}`);
  for (const b of chosen) {
    process.stdout.write(`== ${b.name}\n`);
    const out = await b.run();
    if (out) process.stdout.write(`${out}\n`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
