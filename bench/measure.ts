// Shared by the benchmarks: where things are, statistics, generated mail. Plain lines out, no
// assertions (issue 5: numbers in `npm run bench`, not timed tests).
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The package root, whether run as dist/bench/x.js or from source. */
export const root = resolve(here, here.includes(`${sep}dist${sep}`) ? "../.." : "..");
export const bin = join(root, "bin", "ingest-mail.js");

const made: string[] = [];
// Generated mail (up to hundreds of MB) and databases go when the process ends.
process.on("exit", () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ingest-mail-bench-${name}-`));
  made.push(dir);
  return dir;
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/**
 * The median of run-by-run ratios: each run against the baseline run made just before it. On a shared
 * machine whose speed drifts within a run, this moves less than the ratio of two medians.
 */
export function pairedRatio(xs: number[], base: number[]): number {
  return median(xs.map((x, i) => x / base[i]));
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const ms = (n: number) => `${n.toFixed(1)} ms`;

/** A plain-text mail of about `size` bytes with a unique Message-ID. */
export function mail4k(i: number, opts: { size?: number; from?: string; subject?: string } = {}): Buffer {
  const head = [
    `From: Customer ${i % 50} <customer${i % 50}@example.org>`,
    "To: service@example.com",
    `Subject: ${opts.subject ?? `Question number ${i}`}`,
    `Message-ID: <bench-${i}-${process.pid}-${Date.now()}@example.org>`,
    "Date: Mon, 01 Jan 2024 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "",
  ].join("\n");
  const line = "The quick brown fox jumps over the lazy dog while the printer is on fire again.\n";
  const size = opts.size ?? 4096;
  let body = "";
  while (head.length + body.length + line.length <= size) body += line;
  return Buffer.from(head + body);
}

/** CPU time (user + sys, ms) of this process's waited-for children, from /proc (Linux; else NaN). */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    // fields[0] is the state (field 3); cutime and cstime are fields 16 and 17, in clock ticks (100/s).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Wall time and CPU time (less disturbed by other load on the machine) of one child, in ms. */
export function timeSpawn(args: string[], opts: Parameters<typeof spawnSync>[2] = {}): { ms: number; cpuMs: number; status: number | null; stderr: string } {
  const cpu = childrenCpuMs();
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { ...opts, encoding: "utf8" });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: childrenCpuMs() - cpu, status: r.status, stderr: String(r.stderr ?? "") };
}

/** Runs `run` when the file is executed directly (node dist/bench/x.js), not when imported. */
export function mainModule(url: string, run: () => Promise<void>): void {
  if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === url) {
    run().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  }
}

/** Runs `run` with `mail` in a file opened as its stdin (what an MTA gives: a file or a pipe, not a socket). */
export function onStdinFile<T>(dir: string, mail: Buffer | string, run: (stdin: number) => T): T {
  const file = join(dir, "stdin.eml");
  writeFileSync(file, mail);
  const fd = openSync(file, "r");
  try {
    return run(fd);
  } finally {
    closeSync(fd);
  }
}
