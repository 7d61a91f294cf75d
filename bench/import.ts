// Throughput of `ingest-mail import` (issue 5: ≥ 2,000 messages/s for 4 KB mails): generated 4 KB
// mails (100 customers, a tenth of them replies that quote the reference of an earlier issue) in a
// folder, imported by the built binary in one process into a fresh database. Wall-clock time
// includes starting the process; the import's own figure is its loop alone. Run with the default
// worker threads and with none, and on a larger folder, where the JIT has warmed up for longer.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Compiled to dist/bench/import.js.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(root, "bin", "ingest-mail.js");

const FILLER = "The printer on the third floor shows error 0x1F again after the firmware update. ";

/** A plain-text mail of about `size` bytes. */
export function generateMail(n: number, size: number): string {
  const customer = n % 100;
  const head = [
    `From: Customer ${customer} <customer${customer}@bench.example>`,
    "To: support@example.test",
    `Subject: ${n % 10 === 9 ? `Re: [CS-${String(n - 5).padStart(6, "0")}] ` : ""}Question number ${n}`,
    `Message-ID: <bench-${n}@bench.example>`,
    `Date: Mon, 01 Jan 2024 10:${String(Math.floor(n / 60) % 60).padStart(2, "0")}:${String(n % 60).padStart(2, "0")} +0000`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "",
  ].join("\n");
  let body = `Hello,\n\nthis is message ${n}.\n\n`;
  while (head.length + body.length + FILLER.length < size) body += FILLER + (body.length % 320 < FILLER.length ? "\n" : "");
  return head + body.padEnd(size - head.length - 1, ".") + "\n";
}

export interface ImportBench {
  messages: number;
  bytesEach: number;
  seconds: number;
  perSecond: number;
  inProcessPerSecond: number;
  /** Messages per second of CPU time: what one idle core would do (the machine may be shared). */
  perCpuSecond: number;
  counts: Record<string, number>;
  workers: number;
  /** SQLite: the database's size (with its WAL) per mail afterwards (issue 11 measured 14.5 KB for a 4 KB mail). */
  databaseBytesPerMail?: number;
}

const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);

/** `database`: a PostgreSQL URL (a fresh database) instead of a new SQLite file. */
export function benchImport(count = 1000, size = 4096, workers?: number, database?: string): ImportBench {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-bench-"));
  try {
    const mails = join(dir, "mails");
    mkdirSync(mails);
    for (let i = 1; i <= count; i++) writeFileSync(join(mails, `${String(i).padStart(5, "0")}.eml`), generateMail(i, size));
    const env = { PATH: process.env.PATH, HOME: dir, LANG: "C", INGEST_MAIL_DB: database ?? join(dir, "bench.db") };
    const started = performance.now();
    const r = spawnSync(process.execPath, [bin, "import", mails, "--json", ...(workers === undefined ? [] : ["--workers", String(workers)])], { env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    if (r.status !== 0) throw new Error(`import exited ${r.status}: ${r.stderr}`);
    const summary = JSON.parse(r.stdout) as { messages: number; counts: Record<string, number>; messagesPerSecond: number; cpuSeconds: number; workers: number };
    if (summary.messages !== count) throw new Error(`imported ${summary.messages} of ${count}`);
    const databaseBytesPerMail = database ? undefined : Math.round((sizeOf(env.INGEST_MAIL_DB) + sizeOf(`${env.INGEST_MAIL_DB}-wal`)) / count);
    return { messages: count, bytesEach: size, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(count / seconds), inProcessPerSecond: summary.messagesPerSecond, perCpuSecond: Math.round(count / Math.max(summary.cpuSeconds, 0.001)), counts: summary.counts, workers: summary.workers, databaseBytesPerMail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `target`: what the figures are held to (SQLite: the loop, issue 5; PostgreSQL: the whole run, issue 11.9). */
export function describeImport(b: ImportBench, target = { loop: "target ≥ 2000", whole: "" }): string {
  return (
    `import: ${b.messages} mails of ${b.bytesEach / 1024} KB, ${b.workers} worker threads: ${b.inProcessPerSecond} messages/s in the import loop${target.loop ? ` (${target.loop})` : ""}; ` +
    `${b.perSecond}/s with process start (${b.seconds} s${target.whole ? `; ${target.whole}` : ""}); ${b.perCpuSecond} per CPU-second` +
    (b.databaseBytesPerMail === undefined ? "" : `; database ${b.databaseBytesPerMail} bytes a mail`)
  );
}

/** The runs `npm run bench` shows: default workers and none, 1,000 and 10,000 mails (a fresh
 * process spends its first thousand or so mails warming up the JIT). */
export function importRuns(): string {
  return [benchImport(1000), benchImport(1000, 4096, 0), benchImport(10000), benchImport(10000, 4096, 0)].map((b) => describeImport(b)).join("\n");
}
