// The tests' own view of a sandbox database, synchronous on both engines (38 test files read and
// edit rows this way): better-sqlite3 for a file, sync-pg.ts for a postgres:// URL. And the faults
// and locks a test sets up from outside the product.
import Database from "better-sqlite3";
import { existsSync, readFileSync } from "node:fs";
import { pgClose, pgQuery } from "./sync-pg.js";

export type Engine = "sqlite" | "postgres";
/** The engine of this run: INGEST_MAIL_TEST_ENGINE (vitest's postgres project sets it). */
export const engine: Engine = process.env.INGEST_MAIL_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";
export const onPostgres = engine === "postgres";

export const isUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target);

/**
 * For a test of a fact only SQLite has (the database file, its mode, its WAL): skips it, saying so,
 * when the suite runs on PostgreSQL. `it("…", (ctx) => { sqliteOnly(ctx, "why"); … })`.
 */
export function sqliteOnly(ctx: { skip: (condition: boolean, note?: string) => void }, why: string): void {
  ctx.skip(onPostgres, `SQLite only: ${why}`);
}

/** What the binary says on stderr when another writer holds the database past the busy timeout. */
export const LOCKED = onPostgres ? /lock not available/ : /database is locked/;

let databases = 0;

/** A new, empty database on the test server (INGEST_MAIL_TEST_PG, set by pg-global-setup.ts). */
export function createDatabase(): string {
  const base = process.env.INGEST_MAIL_TEST_PG;
  if (!base) throw new Error("INGEST_MAIL_TEST_ENGINE=postgres needs a server: INGEST_MAIL_TEST_PG (vitest's postgres project starts one in test/helpers/pg-global-setup.ts)");
  const name = `t${process.pid}_${++databases}_${Math.random().toString(36).slice(2, 8)}`;
  pgQuery(base, `CREATE DATABASE "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A synchronous connection to a sandbox's database, for a test's own reads and edits. */
export interface TestDb {
  readonly engine: Engine;
  /** Rows of one statement; `?` placeholders on both engines. */
  all<T = any>(sql: string, ...params: unknown[]): T[];
  /** One statement without rows; the number of rows it touched. */
  run(sql: string, ...params: unknown[]): number;
  /** Several statements, without parameters. */
  exec(sql: string): void;
  /** PostgreSQL: ends this test process's connection to that database (its handles share one). */
  close(): void;
}

/** Opens the sandbox database (a file path or a URL) to assert rows or change them behind the product's back. */
export function db(sb: { db: string }): TestDb {
  return isUrl(sb.db) ? postgresDb(sb.db) : sqliteDb(sb.db);
}

function sqliteDb(path: string): TestDb {
  const client = new Database(path, { timeout: 10_000, fileMustExist: true });
  // Opens the WAL (as the product's own connections do), so -wal and -shm exist while this one is open.
  client.prepare("SELECT count(*) FROM sqlite_master").get();
  return {
    engine: "sqlite",
    all: <T>(sql: string, ...params: unknown[]) => client.prepare(sql).all(...params) as T[],
    run: (sql, ...params) => client.prepare(sql).run(...params).changes,
    exec: (sql) => void client.exec(sql),
    close: () => client.close(),
  };
}

function postgresDb(url: string): TestDb {
  return {
    engine: "postgres",
    all: <T>(sql: string, ...params: unknown[]) => pgQuery<T>(url, sql, params).rows,
    run: (sql, ...params) => pgQuery(url, sql, params).changes,
    exec: (sql) => void pgQuery(url, sql),
    close: () => pgClose(url),
  };
}

/** Count rows of a table. */
export function count(d: TestDb, table: string, where = "1=1", ...params: unknown[]): number {
  return Number(d.all<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, ...params)[0].n);
}

export function rows<T = any>(d: TestDb, sql: string, ...params: unknown[]): T[] {
  return d.all<T>(sql, ...params);
}

/** A raw_path or stored_path naming a blob in the database (PostgreSQL, issue 11.8): its sha256. */
const blobSha = (path: string) => (path.startsWith("blob:") ? path.slice("blob:".length) : null);

/** Whether the bytes a raw_path or stored_path names are kept: the file (SQLite), or the blob (PostgreSQL). */
export function storedExists(d: TestDb, path: string): boolean {
  const sha = blobSha(path);
  return sha === null ? existsSync(path) : count(d, "blobs", "sha256 = ?", sha) === 1;
}

/** Those bytes. */
export function storedBytes(d: TestDb, path: string): Buffer {
  const sha = blobSha(path);
  if (sha === null) return readFileSync(path);
  return Buffer.concat(d.all<{ data: Uint8Array }>(`SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY seq`, sha).map((r) => Buffer.from(r.data)));
}

/** Whether the schema is there (a PostgreSQL database exists before the product first opens it). */
export function hasTable(d: TestDb, table: string): boolean {
  const sql = d.engine === "sqlite" ? "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?" : "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?";
  return Number(d.all<{ n: number }>(sql, table)[0].n) > 0;
}

/**
 * Takes the database's write lock from this test, as another writer would, until the returned
 * function is called: SQLite BEGIN EXCLUSIVE; PostgreSQL an EXCLUSIVE lock on every table (reads
 * still pass, writes wait for lock_timeout).
 */
export function holdWriteLock(d: TestDb): () => void {
  if (d.engine === "sqlite") d.exec("BEGIN EXCLUSIVE");
  else
    d.exec(`BEGIN; DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', t); END LOOP;
    END $$`);
  return () => d.exec("ROLLBACK");
}

export interface Fault {
  /** Trigger name. */
  name: string;
  table: string;
  /** `INSERT`, or e.g. `UPDATE OF status`. */
  on: string;
  /** A condition on NEW, in SQL both engines read (e.g. `NEW.status <> 'new'`). */
  when?: string;
  message: string;
}

/** A fault the database raises (a trigger), from outside the product: no test hook in the code. */
export function injectFault(d: TestDb, f: Fault): void {
  if (d.engine === "sqlite") d.exec(`CREATE TRIGGER ${f.name} BEFORE ${f.on} ON ${f.table} ${f.when ? `WHEN ${f.when}` : ""} BEGIN SELECT RAISE(ABORT, '${f.message}'); END`);
  else
    d.exec(`CREATE FUNCTION ${f.name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${f.message}'; END $$;
      CREATE TRIGGER ${f.name} BEFORE ${f.on} ON ${f.table} FOR EACH ROW ${f.when ? `WHEN (${f.when})` : ""} EXECUTE FUNCTION ${f.name}()`);
}

export function removeFault(d: TestDb, f: Pick<Fault, "name" | "table">): void {
  d.exec(d.engine === "sqlite" ? `DROP TRIGGER ${f.name}` : `DROP TRIGGER ${f.name} ON ${f.table}; DROP FUNCTION ${f.name}()`);
}
