// Opens the SQLite database: WAL + busy timeout so many ingest processes can run at once, and the
// generated migrations applied on open (a fresh path just works; an older database is migrated).
import Database from "better-sqlite3";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { DatabaseRefusedError } from "../../errors.js";
import { SqliteStore, mapSqliteError, type WriteTurn } from "./engine.js";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface OpenOptions {
  busyTimeoutMs: number;
  readonly?: boolean;
  /** Issue 10: mode for a database this call creates (SQLite makes it 0644; -wal/-shm copy it). */
  fileMode?: number;
  /** serve: the write lock shared with the daemon's other thread (serve/write-lock.ts). */
  writeTurn?: WriteTurn;
}

// Run from src/ (tests), dist/src/ (tsc) or dist/bundle/ (esbuild): the package root is the nearest
// folder above that holds the migrations.
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "drizzle", "sqlite", "meta", "_journal.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the drizzle/sqlite/ migrations folder above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}
export const packageRoot = findPackageRoot();
const migrationsFolder = join(packageRoot, "drizzle", "sqlite");

/** Opens (creating and migrating when needed) the SQLite database at `path`. */
export function openSqliteStore(path: string, opts: OpenOptions): SqliteStore {
  try {
    return openClient(path, opts);
  } catch (e) {
    throw mapSqliteError(e, path);
  }
}

function openClient(path: string, opts: OpenOptions): SqliteStore {
  if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
  // Issue 9.4: an empty file is a half-made or truncated database, never one to initialise anew.
  // SQLite itself leaves a new file empty until its first write, so an empty file only seconds old
  // is another process creating the database right now (MTA deliveries to a fresh path race).
  if (isStaleEmptyFile(path)) throw new DatabaseRefusedError(`database ${path} is an empty file (0 bytes); refusing to initialise it: restore it, or remove it to start a new database`);
  const fresh = opts.fileMode !== undefined && !opts.readonly && !existsSync(path);
  const client = new Database(path, { timeout: opts.busyTimeoutMs, readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  if (fresh) chmodSync(path, opts.fileMode!); // issue 10: before the first write, the file still empty
  try {
    checkSchema(client, path);
  } catch (e) {
    client.close();
    throw e;
  }
  if (!opts.readonly) {
    // journal_mode is persistent; asking again is a cheap no-op once it is WAL.
    toWal(client, opts.busyTimeoutMs);
    // Commits that must survive a power loss ask for it (inDurableWriteTx: staging); the rest can
    // be redone from the staged record, so they skip the fsync.
    client.pragma("synchronous = NORMAL");
    client.pragma("foreign_keys = OFF");
    // Savepoints (a stage inside import's batch transaction) journal every page they touch; in a
    // temp file that cost a quarter of the per-mail time (bench: 0.44 → 0.34 ms per mail).
    client.pragma("temp_store = MEMORY");
    // One-mail processes leave the WAL for the next (close({ keepWal })), which recovers it on open
    // by reading it whole: a short WAL keeps that cheap; the checkpoint it costs is shared by ~10 mails.
    client.pragma("wal_autocheckpoint = 200");
    migrate(client);
  }
  // The daemon (a write turn): SQLite's busy handler sleeps on the thread, and with another
  // process holding the database the daemon's every session, its SIGTERM and its drain deadline
  // stopped for busyTimeoutMs. Its connection waits for the lock in short sleeps between event-loop
  // turns instead (engine.ts beginWrite), for as long in all.
  if (opts.writeTurn && !opts.readonly) client.pragma(`busy_timeout = ${BUSY_STEP_MS}`);
  return new SqliteStore(client, { location: path, writeTurn: opts.writeTurn, waitBusyMs: opts.writeTurn ? opts.busyTimeoutMs : undefined });
}

/** The daemon's connection: SQLite's own busy wait before it yields to the event loop and tries again. */
const BUSY_STEP_MS = 20;

const CREATING_MS = 30_000;

/**
 * Switching a new database to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once,
 * without its busy handler, when another process is creating the same database (two MTA
 * deliveries to a fresh path: 1 in 5 failed with 75). Retried here within the busy timeout.
 */
function toWal(client: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      client.pragma("journal_mode = WAL");
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

function isStaleEmptyFile(path: string): boolean {
  if (!existsSync(path)) return false;
  const st = statSync(path);
  return st.size === 0 && Date.now() - st.mtimeMs > CREATING_MS;
}

/** Our migrations as the journal lists them: the schema version this program writes. */
let journalLength: number | undefined;
function schemaVersion(): number {
  journalLength ??= (JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;
  return journalLength;
}

/** Issue 9.4: refuse a file that is not SQLite, not ours, or from a newer version of the program. */
function checkSchema(client: Database.Database, path: string): void {
  let version: number;
  try {
    version = client.pragma("user_version", { simple: true }) as number;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") throw new DatabaseRefusedError(`database ${path} is not a readable SQLite database (${code}): restore it from a backup`);
    throw e;
  }
  if (version > schemaVersion()) throw new DatabaseRefusedError(`database ${path} has schema version ${version}, newer than this program's ${schemaVersion()}: upgrade ingest-mail`);
  if (version === 0) {
    const tables = client.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[];
    if (tables.length && !tables.some((t) => t.name === "__drizzle_migrations" || t.name === "staged_mails"))
      throw new DatabaseRefusedError(`database ${path} holds tables of another program (${tables.slice(0, 3).map((t) => t.name).join(", ")}); refusing to add ours`);
  }
}

/** The schema version of this program (and the one a migrated database carries). */
export function programSchemaVersion(): number {
  return schemaVersion();
}

/**
 * drizzle's own migrator reads the last applied migration before it takes a write lock, so two
 * processes opening a fresh database at once both try to create the tables. Same bookkeeping table,
 * but read and applied under BEGIN IMMEDIATE; PRAGMA user_version is the fast path on every open.
 */
function migrate(client: Database.Database): void {
  const want = schemaVersion();
  if ((client.pragma("user_version", { simple: true }) as number) >= want) return;
  // Loaded only here, from node_modules (never bundled): a migrated database, the case on every
  // message, must not pay for loading it (issue 5, cold start).
  const { readMigrationFiles } = createRequire(import.meta.url)("drizzle-orm/migrator") as typeof import("drizzle-orm/migrator");
  const migrations = readMigrationFiles({ migrationsFolder });
  client.exec("BEGIN IMMEDIATE");
  try {
    client.exec(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
    const last = client.prepare(`SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1`).get() as
      | { created_at: number }
      | undefined;
    const insert = client.prepare(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)`);
    for (const m of migrations) {
      if (last && Number(last.created_at) >= m.folderMillis) continue;
      for (const stmt of m.sql) if (stmt.trim()) client.exec(stmt);
      insert.run(m.hash, m.folderMillis);
    }
    client.pragma(`user_version = ${want}`);
    client.exec("COMMIT");
  } catch (e) {
    client.exec("ROLLBACK");
    throw e;
  }
}
