// Cold ingest of a 4 KB mail as the MTA runs it (a fresh `node bin/ingest-mail.js` per message, the
// mail on stdin), side by side in the same run with `node -e 0`; target ≤ 2.0× (issue 5). Then where
// the time goes: each heavy module imported alone in a fresh process, and a CPU profile of one real
// ingest attributed to packages.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import { bin, mail4k, mainModule, median, ms, percentile, root, tempDir, timeSpawn } from "./measure.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

export async function run(): Promise<void> {
  const dir = tempDir("cold");
  const env = { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1", INGEST_MAIL_DB: join(dir, "ingest.db") };
  // Steady state: the database exists and is migrated, as on a running server.
  spawnSync(process.execPath, [bin], { input: mail4k(-1), env });

  const baseline: number[] = [];
  const version: number[] = [];
  const ingest: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Interleaved so that machine load affects all three alike.
    baseline.push(timeSpawn(["-e", "0"], { env }).ms);
    version.push(timeSpawn([bin, "--version"], { env }).ms);
    const r = timeSpawn([bin], { env, input: mail4k(i) });
    if (r.status !== 0) throw new Error(`ingest exited ${r.status}: ${r.stderr}`);
    ingest.push(r.ms);
  }
  const row = (name: string, xs: number[]) => console.log(`  ${name.padEnd(36)} median ${ms(median(xs)).padStart(9)}   p90 ${ms(percentile(xs, 90)).padStart(9)}   ×${(median(xs) / median(baseline)).toFixed(2)}`);
  console.log(`cold start, ${RUNS} runs each, 4 KB mail (${mail4k(0).length} bytes), node ${process.version}`);
  row("node -e 0", baseline);
  row("ingest-mail --version (CLI entry)", version);
  row("ingest-mail < 4 KB mail", ingest);
  console.log(`  ratio ingest / node -e 0: ${(median(ingest) / median(baseline)).toFixed(2)} (target ≤ 2.00)`);

  const load = moduleImports();
  console.log(`  left for the work itself (ingest − node − imports): ${ms(Math.max(0, median(ingest) - median(baseline) - load))}`);
  profile(env, dir);
}

/** The modules the ingest path loads, imported one after another in the order it loads them, in
 * one fresh process: each row is what that step adds (median of 5). They sum to the load cost. */
function loadOrder(): [string, string][] {
  const req = createRequire(join(root, "package.json"));
  const mp = createRequire(req.resolve("mailparser"));
  const dist = (p: string) => join(root, "dist", "src", p);
  return [
    ["commander", req.resolve("commander")],
    ["cli/main deps (errors.js)", dist("errors.js")],
    ["better-sqlite3 (+ native binding)", req.resolve("better-sqlite3")],
    ["drizzle-orm", req.resolve("drizzle-orm")],
    ["drizzle-orm/better-sqlite3 + migrator", req.resolve("drizzle-orm/better-sqlite3")],
    ["drizzle-orm/migrator", req.resolve("drizzle-orm/migrator")],
    ["our db/schema + db/queries (sqlite-core)", dist("db/queries.js")],
    ["mailparser: @zone-eu/mailsplit", mp.resolve("@zone-eu/mailsplit")],
    ["mailparser: libmime (+ iconv-lite)", mp.resolve("libmime")],
    ["mailparser: html-to-text (+ htmlparser2)", mp.resolve("html-to-text")],
    ["mailparser: he", mp.resolve("he")],
    ["mailparser: linkify-it", mp.resolve("linkify-it")],
    ["mailparser: nodemailer/lib/addressparser", mp.resolve("nodemailer/lib/addressparser")],
    ["mailparser: punycode.js", mp.resolve("punycode.js")],
    ["mailparser itself (+ tlds list)", req.resolve("mailparser")],
    ["our pipeline (ingest.js and stages)", dist("pipeline/ingest.js")],
    ["our cli context + ingest command", dist("cli/commands/ingest.js")],
    ["chalk (not on the ingest path)", join(root, "node_modules", "chalk", "source", "index.js")],
  ];
}

function moduleImports(): number {
  const steps = loadOrder();
  const code = `(async()=>{const steps=${JSON.stringify(steps.map(([, p]) => `file://${p}`))};const out=[];for(const s of steps){const t=process.hrtime.bigint();await import(s);out.push(Number(process.hrtime.bigint()-t)/1e6)}process.stdout.write(JSON.stringify(out))})()`;
  const runs: number[][] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", cwd: root });
    if (r.status !== 0) throw new Error(r.stderr);
    runs.push(JSON.parse(r.stdout));
  }
  console.log("import cost in load order, one fresh process, each row = what that step adds (median of 5):");
  let onPath = 0;
  steps.forEach(([name], k) => {
    const t = median(runs.map((r) => r[k]));
    if (!name.startsWith("chalk")) onPath += t;
    console.log(`  ${name.padEnd(44)} ${ms(t).padStart(9)}`);
  });
  console.log(`  ${"sum on the ingest path".padEnd(44)} ${ms(onPath).padStart(9)}`);
  return onPath;
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

/** One ingest under --cpu-prof; self time of every sample attributed to the package it ran in. */
function profile(env: NodeJS.ProcessEnv, dir: string): void {
  const profDir = join(dir, "prof");
  const totals = new Map<string, number>();
  for (let i = 0; i < 5; i++) {
    spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profDir, "--cpu-prof-interval", "100", bin], { input: mail4k(10_000 + i), env });
  }
  const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(profDir, f), "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const bucketOf = new Map(p.nodes.map((n) => [n.id, bucket(n.callFrame.url, n.callFrame.functionName)]));
    p.samples.forEach((id, k) => {
      const b = bucketOf.get(id)!;
      totals.set(b, (totals.get(b) ?? 0) + (p.timeDeltas[k] ?? 0) / 1000 / files.length);
    });
  }
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(`CPU profile of one ingest (mean of ${files.length}, self time by where the code lives; total ${ms(all)} of profiled time):`);
  for (const [name, t] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log(`  ${name.padEnd(38)} ${ms(t).padStart(9)}  ${((100 * t) / all).toFixed(0).padStart(3)}%`);
}

function bucket(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native / V8 builtins)";
  if (url.startsWith("node:")) return url.includes("modules") || url.includes("loader") ? "node: module loader" : "node: other internals";
  const nm = url.lastIndexOf(`node_modules${sep}`) >= 0 ? url.lastIndexOf(`node_modules${sep}`) : url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = url.slice(nm + "node_modules/".length).split(/[\\/]/);
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const d = url.indexOf("/dist/src/");
  if (d >= 0) return `ingest-mail: ${url.slice(d + 10).split("/")[0]}`;
  return url.replace(/^file:\/\//, "");
}

mainModule(import.meta.url, run);
