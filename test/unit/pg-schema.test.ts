// The PostgreSQL schema mirrors the SQLite one (store/postgres/schema.ts): same tables, columns,
// nullability, defaults, indexes and unique keys, so one SQL text runs on both. Fails when one
// schema changes without the other (or without its migration: see the snapshot check).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import * as pgSchema from "../../src/store/postgres/schema.js";
import * as sqliteSchema from "../../src/store/sqlite/schema.js";

type Shape = { columns: string[]; indexes: string[] };

function shape(cfg: ReturnType<typeof pgConfig> | ReturnType<typeof sqliteConfig>): Shape {
  const columns = cfg.columns.map((c) => `${c.name}${c.notNull ? " not null" : ""}${c.primary ? " primary" : ""}${c.isUnique ? " unique" : ""}${c.default !== undefined ? ` default ${Number(c.default)}` : ""}`);
  const indexes = cfg.indexes.map((i) => `${i.config.unique ? "unique " : ""}${i.config.name}(${i.config.columns.map((c) => (c as { name: string }).name).join(",")})`);
  return { columns: columns.sort(), indexes: indexes.sort() };
}

const tables = <T>(mod: Record<string, unknown>, cls: abstract new (...a: never[]) => T) => Object.fromEntries(Object.entries(mod).filter(([, v]) => v instanceof cls)) as Record<string, T>;

describe("PostgreSQL schema", () => {
  const pgTables = tables(pgSchema, PgTable);
  const sqliteTables = tables(sqliteSchema, SQLiteTable);

  it("has the same tables under the same names", () => {
    expect(Object.keys(pgTables).sort()).toEqual(Object.keys(sqliteTables).sort());
    for (const k of Object.keys(pgTables)) expect(pgConfig(pgTables[k]).name).toBe(sqliteConfig(sqliteTables[k]).name);
  });

  it.each(Object.keys(sqliteSchema).filter((k) => (sqliteSchema as Record<string, unknown>)[k] instanceof SQLiteTable))("%s: same columns, defaults and indexes", (k) => {
    expect(shape(pgConfig(pgTables[k]))).toEqual(shape(sqliteConfig(sqliteTables[k])));
  });

  it("its newest migration snapshot has every table (run drizzle-kit generate after a change)", () => {
    const journal = JSON.parse(readFileSync("drizzle/postgres/meta/_journal.json", "utf8")) as { entries: { tag: string }[] };
    const last = journal.entries[journal.entries.length - 1].tag.slice(0, 4);
    const snap = JSON.parse(readFileSync(`drizzle/postgres/meta/${last}_snapshot.json`, "utf8")) as { tables: Record<string, { name: string; columns: Record<string, unknown> }> };
    const inSnap = Object.fromEntries(Object.values(snap.tables).map((t) => [t.name, Object.keys(t.columns).sort()]));
    const inSchema = Object.fromEntries(Object.values(pgTables).map((t) => [pgConfig(t).name, pgConfig(t).columns.map((c) => c.name).sort()]));
    expect(inSnap).toEqual(inSchema);
  });
});
