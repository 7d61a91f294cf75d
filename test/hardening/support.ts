// Shared helpers for the hardening tests: sandboxes with a config file, children we can kill or run
// as another user, and a walk of every file a run left behind.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chmodSync, readdirSync, lstatSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { bin, sandbox, type Sandbox } from "../helpers/cli.js";

export interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A sandbox whose INGEST_MAIL_CONFIG points at a file holding `config`. */
export function configured(config: Record<string, unknown>, extraEnv: NodeJS.ProcessEnv = {}): Sandbox & { config: string } {
  const sb = sandbox(extraEnv);
  const path = join(sb.dir, "config.json");
  writeFileSync(path, JSON.stringify(config));
  sb.env.INGEST_MAIL_CONFIG = path;
  return { ...sb, config: path };
}

/** Runs the binary without blocking, optionally killed with SIGKILL after `killAfterMs`. */
export function spawnIngest(
  sb: Sandbox,
  args: string[],
  stdin: string | Buffer,
  opts: { killAfterMs?: number; spawn?: SpawnOptions; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: sb.env, ...opts.spawn });
    opts.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = opts.killAfterMs === undefined ? null : setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(stdin);
  });
}

/** Every regular file under dir (relative paths), for "nothing half-written" and "nothing outside". */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p);
      else out.push(relative(dir, p));
    }
  };
  visit(dir);
  return out.sort();
}

/** Files under dir that are not the database or its journals. */
export const nonDbFiles = (dir: string) => walk(dir).filter((f) => !/^ingest\.db(-wal|-shm|-journal)?$/.test(f) && f !== "config.json");

/** Opens the sandbox to other users (mkdtemp makes it 0700) for the run-as-nobody tests. */
export const openToOthers = (dir: string) => chmodSync(dir, 0o755);

/** Builds a multipart message with one attachment of `size` bytes (base64, 76-column lines). */
export function withAttachment(opts: { messageId: string; from?: string; subject?: string; filename?: string; size: number }): string {
  const data = Buffer.alloc(opts.size);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 13) & 0xff;
  const b64 = data.toString("base64").replace(/.{76}/g, "$&\n");
  return [
    `From: ${opts.from ?? "Ann Customer <ann@example.com>"}`,
    "To: service@example.com",
    `Subject: ${opts.subject ?? "with attachment"}`,
    `Message-ID: <${opts.messageId}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain",
    "",
    "See attached.",
    "--b1",
    `Content-Type: application/octet-stream; name="${opts.filename ?? "data.bin"}"`,
    `Content-Disposition: attachment; filename="${opts.filename ?? "data.bin"}"`,
    "Content-Transfer-Encoding: base64",
    "",
    b64,
    "--b1--",
    "",
  ].join("\n");
}

/** Runs the jobs with at most `limit` at a time (a slot is refilled as soon as one ends). */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}
