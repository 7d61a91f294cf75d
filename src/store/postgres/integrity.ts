// integrityCheck() of the PostgreSQL store: the server keeps its own files consistent (checksums,
// WAL), so what we check is ours: every table and index the schema declares is there and valid.
// The expected objects come from drizzle-kit's snapshot of the newest migration, so the check
// follows the schema without a list to keep up to date.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../store.js";
import { migrationsFolder } from "./migrate.js";

interface Snapshot {
  tables: Record<string, { name: string; indexes: Record<string, unknown>; uniqueConstraints: Record<string, unknown> }>;
}

/** What the newest snapshot declares: table names and index names (unique constraints are indexes). */
function expected(): { tables: string[]; indexes: string[] } {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const last = journal.entries[journal.entries.length - 1];
  const snap = JSON.parse(readFileSync(join(migrationsFolder(), "meta", `${last.tag.slice(0, 4)}_snapshot.json`), "utf8")) as Snapshot;
  const tables = Object.values(snap.tables);
  return {
    tables: tables.map((t) => t.name),
    indexes: tables.flatMap((t) => [...Object.keys(t.indexes), ...Object.keys(t.uniqueConstraints)]),
  };
}

/** What is missing or broken, one phrase each; empty when all is there. */
export async function checkSchemaObjects(db: Db): Promise<string[]> {
  const want = expected();
  const tables = new Set((await db.all<{ name: string }>(`SELECT tablename AS "name" FROM pg_tables WHERE schemaname = current_schema()`)).map((r) => r.name));
  const indexes = await db.all<{ name: string; valid: number }>(
    `SELECT c.relname AS "name", i.indisvalid AS "valid" FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = current_schema()::regnamespace`,
  );
  const present = new Set(indexes.map((r) => r.name));
  const problems: string[] = [];
  const missingTables = want.tables.filter((t) => !tables.has(t));
  if (missingTables.length) problems.push(`missing tables: ${missingTables.join(", ")}`);
  const missingIndexes = want.indexes.filter((i) => !present.has(i));
  if (missingIndexes.length) problems.push(`missing indexes: ${missingIndexes.join(", ")}`);
  const invalid = indexes.filter((r) => !r.valid).map((r) => r.name);
  if (invalid.length) problems.push(`invalid indexes (an interrupted CREATE INDEX CONCURRENTLY; REINDEX them): ${invalid.join(", ")}`);
  return problems;
}
