// The PostgreSQL schema on open (issue 11.2): drizzle-kit's migrations of drizzle/postgres/, applied
// in one transaction under an advisory lock, so that many processes opening an empty database at once
// (MTA deliveries, two mail hosts) create it once. An up-to-date database costs one round trip: the
// one-row table ingest_mail_schema holds the version (SQLite keeps it in PRAGMA user_version).
//
// Everything lives in the connection's current schema (`public` unless the role's search_path says
// otherwise), drizzle's bookkeeping table `__drizzle_migrations` too, as on SQLite. drizzle's own
// PostgreSQL migrator puts it in a schema of its own, `drizzle`; we do not, so that a role granted one
// schema (and not CREATE on the database) can run it, and one schema holds the whole database.
import type { Pool, PoolClient } from "pg";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseRefusedError } from "../../errors.js";

/** The advisory lock key of the migrations ("ingest" in ASCII); lockKey()'s keys are hashes. */
const MIGRATION_LOCK = "115922902020980";
/** Our tables that mark a database as ours (a half-made one included). */
const OURS = ["ingest_mail_schema", "__drizzle_migrations", "staged_mails"];

let folder: string | undefined;
/**
 * drizzle/postgres/ of the package: run from src/ (tests), dist/src/ (tsc) or dist/bundle/
 * (esbuild), the package root is the nearest folder above that holds it.
 */
export function migrationsFolder(): string {
  if (folder) return folder;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(join(dir, "drizzle", "postgres", "meta", "_journal.json"))) return (folder = join(dir, "drizzle", "postgres"));
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the drizzle/postgres/ migrations folder above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

let journalLength: number | undefined;
/** The schema version this program writes: the number of migrations its journal lists. */
export function programSchemaVersion(): number {
  journalLength ??= (JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;
  return journalLength;
}

/**
 * Brings the database to this program's schema, or refuses it (issue 9.4): a newer schema, or the
 * tables of another program without ours. Readonly: checks only (a database without our schema is
 * refused; an older one is read as it is). Returns the version the database now has.
 */
export async function ensureSchema(pool: Pool, location: string, readonly: boolean, perTransaction = ""): Promise<number> {
  const want = programSchemaVersion();
  const version = await readVersion(pool);
  if (version !== undefined) {
    refuseNewer(version, want, location);
    if (version === want || readonly) return version;
  } else if (readonly) {
    throw new DatabaseRefusedError(`PostgreSQL database ${location} holds no ingest-mail schema; open it once for writing to create it`);
  }
  return migrate(pool, want, location, perTransaction);
}

/** The fast path: one statement; undefined when the table is not there (empty or foreign database). */
async function readVersion(pool: Pool): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ingest_mail_schema`);
    return rows[0]?.version ?? 0;
  } catch (e) {
    if ((e as { code?: string }).code === "42P01") return undefined; // undefined_table
    throw e;
  }
}

function refuseNewer(version: number, want: number, location: string): void {
  if (version > want)
    throw new DatabaseRefusedError(`PostgreSQL database ${location} has schema version ${version}, newer than this program's ${want}: upgrade ingest-mail`);
}

/** perTransaction: the session settings as `; SET LOCAL …`, behind a pooler that refused them at startup. */
async function migrate(pool: Pool, want: number, location: string, perTransaction: string): Promise<number> {
  // Loaded only here, from node_modules (never bundled): an up-to-date database, the case on every
  // message, must not pay for loading drizzle-orm (issue 5, cold start).
  const { readMigrationFiles } = createRequire(import.meta.url)("drizzle-orm/migrator") as typeof import("drizzle-orm/migrator");
  const migrations = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  const client = await pool.connect();
  let broken = false;
  try {
    // A migration is not cut short by statement_timeout (an index over a million rows may take a
    // while); the processes waiting for the lock still give up after lock_timeout (busyTimeoutMs),
    // and their mail is retried by the MTA.
    await client.query(`BEGIN${perTransaction}; SET LOCAL statement_timeout = 0`);
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    // Under the lock, again: another process may have migrated the database meanwhile.
    const { rows } = await client.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`);
    const tables = rows.map((r) => r.tablename);
    let version = tables.includes("ingest_mail_schema") ? ((await client.query<{ version: number }>(`SELECT version FROM ingest_mail_schema`)).rows[0]?.version ?? 0) : 0;
    refuseNewer(version, want, location);
    if (version < want) {
      if (tables.length && !tables.some((t) => OURS.includes(t)))
        throw new DatabaseRefusedError(
          `PostgreSQL database ${location} holds tables of another program (${tables.slice(0, 3).join(", ")}); refusing to add ours: give ingest-mail a database (or schema) of its own`,
        );
      await applyMigrations(client, migrations);
      version = want;
      await client.query(`CREATE TABLE IF NOT EXISTS ingest_mail_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)`);
      await client.query(`INSERT INTO ingest_mail_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version`, [want]);
    }
    await client.query(`COMMIT`);
    return version;
  } catch (e) {
    await client.query(`ROLLBACK`).catch(() => (broken = true));
    throw e;
  } finally {
    client.release(broken);
  }
}

type Migration = ReturnType<typeof import("drizzle-orm/migrator").readMigrationFiles>[number];

/** drizzle's bookkeeping, as its migrator keeps it: a row per applied migration, by its folder time. */
async function applyMigrations(client: PoolClient, migrations: Migration[]): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
  const last = (await client.query<{ created_at: string }>(`SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1`)).rows[0];
  for (const m of migrations) {
    if (last && Number(last.created_at) >= m.folderMillis) continue;
    // One round trip per migration: its statements as one simple query, inside our transaction.
    await client.query(m.sql.filter((s) => s.trim()).join("\n"));
    await client.query(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES ($1, $2)`, [m.hash, m.folderMillis]);
  }
}
