// src/store/tables.generated.ts is what the run time knows of the schema (so it never loads drizzle-orm,
// issue 5). It must say exactly what schema.ts says: after a schema change, `npm run db:tables`.
import * as drizzle from "drizzle-orm";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, without types
import { render, target } from "../../scripts/gen-tables.mjs";
import * as schema from "../../src/store/sqlite/schema.js";
import * as tables from "../../src/store/tables.generated.js";
import { info } from "../../src/store/sql.js";

describe("generated table metadata", () => {
  it("is up to date with src/store/sqlite/schema.ts (else run: npm run db:tables)", () => {
    expect(readFileSync(target, "utf8")).toBe(render(schema, drizzle));
  });

  it.each(Object.entries(schema).filter(([, t]) => drizzle.is(t, drizzle.Table)) as [string, drizzle.Table][])("%s: name, columns, booleans and blobs as drizzle has them", (name, t) => {
    const meta = (tables as Record<string, Parameters<typeof info>[0]>)[name];
    const cols = drizzle.getTableColumns(t);
    expect(meta.name).toBe(drizzle.getTableName(t));
    expect(Object.entries(meta.columns)).toEqual(Object.entries(cols).map(([k, c]) => [k, c.name]));
    expect(meta.booleans).toEqual(Object.keys(cols).filter((k) => cols[k].columnType === "SQLiteBoolean"));
    expect(meta.blobs).toEqual(Object.keys(cols).filter((k) => cols[k].columnType === "SQLiteBlobBuffer"));
    expect(info(meta).select).not.toMatch(/"raw"/);
  });
});
