// Runs the built binary the way an MTA does: raw mail on stdin, a fresh database per test, on the
// engine INGEST_MAIL_TEST_ENGINE names (sqlite, the default; postgres in vitest's postgres project,
// issue 11.6). The tests' own reads and edits (db, count, rows: test-db.ts) are synchronous on both
// engines.
import { spawn, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import { createDatabase, isUrl, onPostgres } from "./test-db.js";

export { count, db, engine, hasTable, holdWriteLock, injectFault, LOCKED, onPostgres, removeFault, rows, sqliteOnly, storedBytes, storedExists, type Engine, type Fault, type TestDb } from "./test-db.js";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = join(root, "bin", "ingest-mail.js");
export const fixture = (name: string) => join(root, "fixtures", name);
export const readFixture = (name: string) => readFileSync(fixture(name));

export interface Sandbox {
  dir: string;
  /** The database: a file path (SQLite) or a postgres:// URL. */
  db: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A temp folder with its own database; INGEST_MAIL_* from the outer environment removed, and the
 * system configuration file looked for inside the folder, never in the machine's /etc/ingest-mail.
 * On PostgreSQL the database is a new one on the test server, and the local folders (attachments,
 * spool) are still inside the sandbox folder: the data folder a URL uses is $XDG_DATA_HOME/ingest-mail.
 */
export function sandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  let dir: string;
  let db: string;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: "C", NO_COLOR: "1" };
  if (onPostgres) {
    const parent = mkdtempSync(join(tmpdir(), "ingest-mail-test-"));
    dir = join(parent, "ingest-mail");
    mkdirSync(dir, { mode: 0o700 });
    // The sandbox itself is 0700, as on SQLite; its parent is not, or the tests that run the
    // binary as nobody could not reach it.
    chmodSync(parent, 0o755);
    env.XDG_DATA_HOME = parent;
    db = createDatabase();
  } else {
    dir = mkdtempSync(join(tmpdir(), "ingest-mail-test-"));
    db = join(dir, "ingest.db");
  }
  Object.assign(env, { HOME: dir, INGEST_MAIL_DB: db, INGEST_MAIL_SYSTEM_CONFIG: join(dir, "etc", "config.json") }, extraEnv);
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

/**
 * Creates the sandbox's database, as `ingest-mail init` does: admin commands never create one (issue 10).
 * SQLite: opened (created, migrated) by the store in this process. PostgreSQL: `ingest-mail init`
 * (the store's openStore in the built binary), since the tests' helpers stay synchronous.
 */
export function initDb(sb: Sandbox): Sandbox {
  if (isUrl(sb.db)) {
    // Without the test's configuration file: it may be one the test wants refused later.
    const env = { ...sb.env };
    delete env.INGEST_MAIL_CONFIG;
    const r = run({ ...sb, env }, ["init"]);
    if (r.code !== 0) throw new Error(`ingest-mail init exited ${r.code}: ${r.stderr}`);
  } else openSqliteStore(sb.db, { busyTimeoutMs: 10_000 }).client.close();
  return sb;
}

/** Builds a small RFC822 message for table-driven tests. */
export function mail(h: Record<string, string>, body = "Hello.\n"): string {
  const headers = { "Message-ID": `<${Math.random().toString(36).slice(2)}@test.example>`, Date: "Mon, 01 Jan 2024 10:00:00 +0000", ...h };
  return `${Object.entries(headers)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n\n${body}`;
}
