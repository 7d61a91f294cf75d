// Runs the built binary the way an MTA does: raw mail on stdin, a fresh database per test.
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openDb, type Db } from "../../src/db/open.js";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = join(root, "bin", "ingest-mail.js");
export const fixture = (name: string) => join(root, "fixtures", name);
export const readFixture = (name: string) => readFileSync(fixture(name));

export interface Sandbox {
  dir: string;
  db: string;
  env: NodeJS.ProcessEnv;
}

/** A temp folder with its own database path; INGEST_MAIL_* from the outer environment removed. */
export function sandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-test-"));
  const db = join(dir, "ingest.db");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, LANG: "C", NO_COLOR: "1", INGEST_MAIL_DB: db, ...extraEnv };
  return { dir, db, env };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  json: <T = any>() => T;
}

export function run(sb: Sandbox, args: string[], stdin?: string | Buffer, opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [bin, ...args], { input: stdin ?? "", env: sb.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  const stdout = String(r.stdout ?? "");
  return {
    code: r.status ?? -1,
    stdout,
    stderr: String(r.stderr ?? ""),
    json: () => JSON.parse(stdout),
  };
}

/** Ingests a fixture file (or raw text) with --json and returns the outcome. */
export function ingest(sb: Sandbox, mail: string | Buffer, args: string[] = []): any {
  const r = run(sb, ["--json", ...args], mail);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  return r.json();
}

export function runAsync(sb: Sandbox, args: string[], stdin: string | Buffer): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], { env: sb.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) }));
    child.stdin.on("error", () => {});
    child.stdin.end(stdin);
  });
}

/** Creates the sandbox's database, as `ingest-mail init` does: admin commands never create one (issue 10). */
export function initDb(sb: Sandbox): Sandbox {
  openDb(sb.db, { busyTimeoutMs: 10_000 }).$client.close();
  return sb;
}

/** Opens the sandbox database to assert rows (read through the same schema). */
export function db(sb: Sandbox): Db {
  return openDb(sb.db, { busyTimeoutMs: 10_000 });
}

/** Count rows of a table. */
export function count(d: Db, table: string, where = "1=1", ...params: unknown[]): number {
  return (d.$client.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get(...params) as { n: number }).n;
}

export function rows<T = any>(d: Db, sql: string, ...params: unknown[]): T[] {
  return d.$client.prepare(sql).all(...params) as T[];
}

/** Builds a small RFC822 message for table-driven tests. */
export function mail(h: Record<string, string>, body = "Hello.\n"): string {
  const headers = { "Message-ID": `<${Math.random().toString(36).slice(2)}@test.example>`, Date: "Mon, 01 Jan 2024 10:00:00 +0000", ...h };
  return `${Object.entries(headers)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n\n${body}`;
}
