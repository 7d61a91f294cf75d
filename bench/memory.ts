// Peak RSS and time of ingesting one mail with a 1, 10 and 50 MB attachment through the real binary,
// as the MTA runs it; target ≤ 150 MB at 50 MB, time linear in size (issue 5).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { bin, mail4k, mainModule, ms, tempDir } from "./measure.js";

const SIZES_MB = (process.env.BENCH_SIZES_MB ?? "1,10,50").split(",").map(Number);
const TIME = "/usr/bin/time";

export async function run(): Promise<void> {
  const dir = tempDir("memory");
  // No size limit in the way (the default maxMessageBytes is 100 MB).
  writeFileSync(join(dir, "config.json"), JSON.stringify({ limits: { maxMessageBytes: 4 * 1024 ** 3 } }));
  const env = { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1", INGEST_MAIL_DB: join(dir, "ingest.db"), INGEST_MAIL_CONFIG: join(dir, "config.json") };
  spawnSync(process.execPath, [bin], { input: mail4k(-1), env });
  console.log(`peak RSS and time of one ingest with an attachment (base64), real binary, ${existsSync(TIME) ? "/usr/bin/time" : "VmHWM polling"}`);
  const small = join(dir, "small.eml");
  writeFileSync(small, mail4k(0));
  const base = await measure(small, env);
  console.log(`  ${"4 KB, no attachment".padEnd(22)} peak RSS ${base.rssMb.toFixed(1).padStart(6)} MB   ${ms(base.ms).padStart(10)}`);
  const rows: { mb: number; rssMb: number; ms: number; bytes: number }[] = [];
  for (const mb of SIZES_MB) {
    const file = join(dir, `attachment-${mb}mb.eml`);
    const bytes = writeMail(file, mb * 1024 * 1024, mb);
    const r = await measure(file, env);
    rows.push({ mb, bytes, ...r });
    console.log(
      `  ${`${mb} MB attachment`.padEnd(22)} peak RSS ${r.rssMb.toFixed(1).padStart(6)} MB   ${ms(r.ms).padStart(10)}   mail ${(bytes / 1048576).toFixed(1)} MB   ${((r.ms - base.ms) / mb).toFixed(1)} ms per attachment MB above the 4 KB run`,
    );
  }
  const big = rows.at(-1);
  if (big) console.log(`  peak RSS at ${big.mb} MB: ${big.rssMb.toFixed(1)} MB (target ≤ 150 MB); RSS above the 4 KB run: ${(big.rssMb - base.rssMb).toFixed(1)} MB`);
}

/** Writes a mail whose attachment decodes to `size` bytes, in pieces (never all in memory). */
function writeMail(path: string, size: number, tag: number): number {
  const fd = openSync(path, "w");
  let bytes = 0;
  const w = (s: string) => (bytes += writeSync(fd, s));
  w(`From: Big Sender <big@example.org>\nTo: service@example.com\nSubject: ${tag} MB attachment\nMessage-ID: <memory-${tag}-${Date.now()}@example.org>\n`);
  w(`MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="bb"\n\n--bb\nContent-Type: text/plain\n\nSee the attachment.\n--bb\n`);
  w(`Content-Type: application/octet-stream; name="big.bin"\nContent-Disposition: attachment; filename="big.bin"\nContent-Transfer-Encoding: base64\n\n`);
  const chunk = Buffer.alloc(57 * 1024);
  for (let left = size, n = 0; left > 0; left -= chunk.length, n++) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + n) & 0xff;
    w(`${chunk.subarray(0, Math.min(left, chunk.length)).toString("base64").replace(/.{76}/g, "$&\n")}\n`);
  }
  w("--bb--\n");
  closeSync(fd);
  return bytes;
}

async function measure(file: string, env: NodeJS.ProcessEnv): Promise<{ rssMb: number; ms: number }> {
  const input = openSync(file, "r");
  try {
    if (existsSync(TIME)) {
      const t = process.hrtime.bigint();
      const r = spawnSync(TIME, ["-f", "RSSKB=%M", process.execPath, bin], { stdio: [input, "pipe", "pipe"], env, encoding: "utf8" });
      const elapsed = Number(process.hrtime.bigint() - t) / 1e6;
      if (r.status !== 0) throw new Error(`ingest exited ${r.status}: ${r.stderr}`);
      const kb = Number(/RSSKB=(\d+)/.exec(r.stderr)?.[1]);
      return { rssMb: kb / 1024, ms: elapsed };
    }
    return await pollHwm(input, env);
  } finally {
    closeSync(input);
  }
}

/** Without /usr/bin/time: read the child's VmHWM (its peak RSS) until it exits. */
function pollHwm(input: number, env: NodeJS.ProcessEnv): Promise<{ rssMb: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin], { stdio: [input, "ignore", "pipe"], env });
    let kb = 0;
    const poll = setInterval(() => {
      try {
        kb = Math.max(kb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 5);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`ingest exited ${code}`));
      resolve({ rssMb: kb / 1024, ms: Number(process.hrtime.bigint() - t) / 1e6 });
    });
  });
}

mainModule(import.meta.url, run);
