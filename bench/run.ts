// `npm run bench`: the sub-benchmarks, run one after another; each prints its own line.
// `node dist/bench/run.js NAME...` runs only those named.
import { benchImport, describeImport } from "./import.js";

interface Bench {
  name: string;
  run: () => Promise<string> | string;
}

const benches: Bench[] = [{ name: "import", run: () => describeImport(benchImport()) }];

async function main(names: string[]): Promise<void> {
  const chosen = names.length ? benches.filter((b) => names.includes(b.name)) : benches;
  if (names.length && chosen.length !== names.length) throw new Error(`unknown benchmark; known: ${benches.map((b) => b.name).join(", ")}`);
  for (const b of chosen) process.stdout.write(`${await b.run()}\n`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
