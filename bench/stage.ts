// Issue 9: what staging first costs and what hostile input costs.
// - staging latency (stdin read → durable commit), in process: a 4 KB mail and 1 MB pathological
//   inputs (the same for any shape: nothing is parsed before the commit);
// - the whole ingest of each pathological input through the real binary (bounded, linear work);
// - peak RSS of a 90 MB text/plain body (target ≤ 150 MB);
// - cold ingest of a plain and of an HTML-only 4 KB mail beside `node -e 0`, interleaved, under an
//   MTA's minimal environment (PATH only): target ≤ 2.0× for both.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { makeDeps } from "../src/cli/context.js";
import { readRaw } from "../src/pipeline/read-raw.js";
import { stageRaw } from "../src/pipeline/stage.js";
import { bin, mail4k, mainModule, median, ms, onStdinFile, pairedRatio, percentile, tempDir, timeSpawn } from "./measure.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const MB = 1024 * 1024;

const NINE = ["gb18030", "big5", "shift_jis", "euc-jp", "euc-kr", "koi8-r", "iso-8859-2", "windows-1251", "iso-8859-7"];
/** `n` bytes of 0x80-0xFF as a Latin-1 string, none of them valid UTF-8 in a row. */
const high = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x80 + ((i * 7919) % 128))).join("");

export function pathological(): [string, Buffer][] {
  const h = (headers: string, body: string) => Buffer.from(`${headers}\nMessage-ID: <p-${Math.random()}@x>\n\n${body}`);
  const h8 = (headers: string, body: string) => Buffer.from(`${headers}\nMessage-ID: <p-${Math.random()}@x>\n\n${body}`, "latin1");
  return [
    ["HTML-only body, 1 MB of nested tags", h("From: h@example.com\nSubject: nested\nMIME-Version: 1.0\nContent-Type: text/html", `${"<div><span><b><i>".repeat(MB / 17)}deep`)],
    ["From: a, 500 KB of spaces, x", h(`From: a${" ".repeat(MB / 2)}x\nSubject: spaces`, "body\n")],
    ["To: 500 KB of quotes and commas", h(`From: q@example.com\nTo: ${'",'.repeat(MB / 4)}\nSubject: commas`, "body\n")],
    ["HTML body, 1 MB of '<'", h("From: l@example.com\nSubject: lt\nContent-Type: text/html", "<".repeat(MB))],
    ["text body, 1 MB in one line", h("From: o@example.com\nSubject: one line", "x".repeat(MB))],
    // Read in turn as UTF-8, the declared charsets, a guess and Windows-1252 (src/pipeline/body-text.ts).
    ["text body, 1 MB 8-bit, no charset", h8("From: e@example.com\nSubject: 8bit", high(MB))],
    ["50 × 20 KB 8-bit parts, 9 charsets", h8(`From: m@example.com\nSubject: ${NINE.map((c) => `=?${c}?Q?x?=`).join(" ")}\nContent-Type: multipart/mixed; boundary=b`, `${`--b\nContent-Type: text/plain\n\n${high(20_000)}\n`.repeat(50)}--b--\n`)],
  ];
}

export async function run(): Promise<void> {
  const dir = tempDir("stage");
  const env = { PATH: "/usr/bin:/bin", HOME: dir, NO_COLOR: "1", INGEST_MAIL_DB: join(dir, "ingest.db") };
  spawnSync(process.execPath, [bin], { input: mail4k(-1), env });
  console.log(`issue 9, node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);

  // Staging latency in process: read the bytes, commit them with fsync. Medians of RUNS each.
  const deps = await makeDeps({ db: join(dir, "inproc.db") }, { HOME: dir }, undefined, { create: true });
  const stageOnce = async (bytes: Buffer) => {
    const t = process.hrtime.bigint();
    const raw = await readRaw([bytes], { spoolDir: deps.paths.spoolDir, inlineMaxBytes: deps.config.inlineRawMaxBytes, maxMessageBytes: deps.config.limits.maxMessageBytes });
    await stageRaw(deps, { raw, envelope: { recipient: `r${Math.random()}@example.com`, sender: null }, source: "bench" });
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const latency = async (label: string, make: (i: number) => Buffer) => {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) xs.push(await stageOnce(make(i)));
    console.log(`  staging latency ${label.padEnd(40)} median ${ms(median(xs)).padStart(9)}  p90 ${ms(percentile(xs, 90)).padStart(9)}`);
  };
  await latency("4 KB mail", (i) => mail4k(5000 + i));
  for (const [name, bytes] of pathological()) await latency(name, () => bytes);
  await deps.store.close();

  // The whole ingest of each pathological input, real binary (parse included).
  for (const [name, bytes] of pathological()) {
    const r = timeSpawn([bin, "--json"], { env, input: bytes });
    const status = r.status === 0 ? "exit 0" : `exit ${r.status}`;
    console.log(`  whole ingest    ${name.padEnd(40)} ${ms(r.ms).padStart(9)} wall, ${ms(r.cpuMs).padStart(9)} cpu, ${status}`);
  }

  // Peak RSS of a 90 MB text/plain body.
  const big = join(dir, "text-90mb.eml");
  const fd = openSync(big, "w");
  writeSync(fd, "From: big@example.com\nTo: service@example.com\nSubject: ninety\nContent-Type: text/plain\n\n");
  const line = "The quick brown fox jumps over the lazy dog, again and again and again.\n".repeat(10_000);
  for (let written = 0; written < 90 * MB; written += line.length) writeSync(fd, line);
  closeSync(fd);
  if (existsSync("/usr/bin/time")) {
    const input = openSync(big, "r");
    const t = process.hrtime.bigint();
    const r = spawnSync("/usr/bin/time", ["-f", "RSSKB=%M", process.execPath, bin], { stdio: [input, "pipe", "pipe"], env, encoding: "utf8" });
    closeSync(input);
    const rss = Number(/RSSKB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
    console.log(`  90 MB text/plain body: peak RSS ${rss.toFixed(1)} MB (target ≤ 150 MB), ${ms(Number(process.hrtime.bigint() - t) / 1e6)}, exit ${r.status}`);
  } else console.log("  90 MB text/plain body: skipped (no /usr/bin/time)");

  // Cold ingest, plain and HTML-only, beside node -e 0, interleaved.
  const html = (i: number) =>
    Buffer.from(
      `From: Html Sender <html${i}@example.org>\nTo: service@example.com\nSubject: HTML only ${i}\nMessage-ID: <html-${i}-${Date.now()}@example.org>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>${"<p>Hello, this is <b>HTML</b> only, with a <a href='https://example.org/'>link</a>.</p>".repeat(45)}</body></html>\n`,
    );
  const base: number[] = [];
  const plain: number[] = [];
  const htmlOnly: number[] = [];
  // The mail in a file on stdin, as an MTA gives it (a file or a pipe; Node's socket would add the
  // loading of net, which no delivery pays: bench/cold-start.ts).
  const fromFile = (mail: Buffer) => onStdinFile(dir, mail, (stdin) => timeSpawn([bin], { env, stdio: [stdin, "pipe", "pipe"] }).ms);
  for (let i = 0; i < RUNS; i++) {
    base.push(timeSpawn(["-e", "0"], { env }).ms);
    plain.push(fromFile(mail4k(9000 + i)));
    htmlOnly.push(fromFile(html(i)));
  }
  const b = median(base);
  console.log(`  cold ingest (env PATH only, the mail in a file on stdin), ${RUNS} interleaved runs: node -e 0 ${ms(b)}`);
  const paired = (xs: number[]) => pairedRatio(xs, base).toFixed(2);
  console.log(`    plain 4 KB mail      ${ms(median(plain)).padStart(9)}  ×${(median(plain) / b).toFixed(2)}, paired ×${paired(plain)} (target ≤ 2.00)`);
  console.log(`    HTML-only 4 KB mail  ${ms(median(htmlOnly)).padStart(9)}  ×${(median(htmlOnly) / b).toFixed(2)}, paired ×${paired(htmlOnly)} (target ≤ 2.00)`);
}

mainModule(import.meta.url, run);
