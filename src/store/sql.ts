// The small layer under the named queries: INSERT/UPDATE/SELECT built from the table metadata, with
// row mapping, in SQL both engines run. drizzle's query builder re-prepared every statement and
// dominated the ingest path (profiled at ~60% of in-process time), so queries are plain SQL. The schema
// reaches this file as plain metadata (tables.generated.ts, made from schema.ts by
// scripts/gen-tables.mjs): loading drizzle-orm cost every cold start ~15 ms (issue 5).
import type { Table } from "drizzle-orm";
import type { Db, DeferOptions } from "./store.js";

/** What the SQL layer knows of a table: generated from its drizzle definition. */
export interface PlainTable {
  readonly name: string;
  /** property → column name, in schema order */
  readonly columns: Readonly<Record<string, string>>;
  readonly booleans: readonly string[];
  readonly blobs: readonly string[];
}

/** A table's metadata with its row types, as `typeof table.$inferSelect` reads on a drizzle table. */
export interface TableMeta<T extends Table> extends PlainTable {
  /** Types only (as on drizzle's own tables): no value at run time. */
  readonly $inferSelect: T["$inferSelect"];
  readonly $inferInsert: T["$inferInsert"];
}

/** Gives generated metadata its drizzle table's row types. */
export const table = <T extends Table>(t: PlainTable): TableMeta<T> => t as TableMeta<T>;

interface TableInfo {
  name: string;
  /** property → column name */
  columns: Map<string, string>;
  booleans: Set<string>;
  /** Every column but blobs: what the pipeline reads (the raw message is never needed back). */
  select: string;
}

const infos = new WeakMap<PlainTable, TableInfo>();

export function info(table: PlainTable): TableInfo {
  let i = infos.get(table);
  if (!i) {
    const columns = new Map(Object.entries(table.columns));
    const blobs = new Set(table.blobs);
    const select = [...columns]
      .filter(([k]) => !blobs.has(k))
      .map(([k, c]) => (k === c ? `"${c}"` : `"${c}" AS "${k}"`))
      .join(", ");
    infos.set(table, (i = { name: table.name, columns, booleans: new Set(table.booleans), select }));
  }
  return i;
}

// Statements by table and columns: the same string each time, so the engines'
// caches of prepared statements (keyed by the text) find it without hashing 1-2 KB of SQL anew
// (issue 12: ~20 us a mail in the daemon's processing). Column sets come from the code, a few dozen;
// multi-row INSERTs (a mail's attachments) are built each time and not kept, and the map is emptied
// past MEMO_MAX, so a long-running process never grows it without bound.
const oneRow = new Map<string, string>();
const MEMO_MAX = 500;

function memo(key: string, make: () => string): string {
  let sql = oneRow.get(key);
  if (sql === undefined) {
    if (oneRow.size >= MEMO_MAX) oneRow.clear();
    oneRow.set(key, (sql = make()));
  }
  return sql;
}

/** `SELECT <all columns but blobs, as properties> FROM table` + rest. */
export function selectSql(table: PlainTable, rest: string): string {
  const i = info(table);
  return `SELECT ${i.select} FROM "${i.name}" ${rest}`;
}

export function mapRow<T>(table: PlainTable, row: unknown): T {
  if (!row) return row as T;
  const i = info(table);
  const r = row as Record<string, unknown>;
  for (const b of i.booleans) if (r[b] !== null && r[b] !== undefined) r[b] = r[b] === 1 || r[b] === true;
  return r as T;
}

const toDriver = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : v === undefined ? null : v);

function assignments(table: PlainTable, values: Record<string, unknown>): { cols: string[]; params: unknown[] } {
  const i = info(table);
  const cols: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const c = i.columns.get(k);
    if (!c) throw new Error(`no column ${k} in ${i.name}`);
    cols.push(c);
    params.push(toDriver(v));
  }
  return { cols, params };
}

/** INSERT the given properties; returns the new row id. */
export async function insertRow(db: Db, table: PlainTable, values: Record<string, unknown>): Promise<number> {
  const { cols, params } = assignments(table, values);
  return Number((await db.get<{ id: number }>(insertSql(table, cols, 1, "id"), params))!.id);
}

/** INSERT the given properties; returns the whole new row (but blobs), defaults filled in. */
export async function insertReturning<T>(db: Db, table: PlainTable, values: Record<string, unknown>): Promise<T> {
  const { cols, params } = assignments(table, values);
  return mapRow<T>(table, await db.get(insertSql(table, cols, 1, "row"), params));
}

/**
 * INSERT the given properties unless a row with the same value in a unique column exists (ON
 * CONFLICT DO NOTHING, issue 11.3: duplicates rest on a unique key, on both engines); returns the
 * new row, or undefined when the key was taken, by a committed writer or one that commits meanwhile.
 */
export async function insertReturningUnlessTaken<T>(db: Db, table: PlainTable, values: Record<string, unknown>, uniqueColumn: string): Promise<T | undefined> {
  const { sql, params } = insertUnlessTaken(table, values, uniqueColumn, "row");
  const row = await db.get(sql, params);
  return row ? mapRow<T>(table, row) : undefined;
}

/**
 * The INSERT of insertReturningUnlessTaken. A row that conflicts draws an id all the same, on both
 * engines (the identity sequence; SQLite's AUTOINCREMENT counter), so a key seen taken produces no
 * row at all (`SELECT … WHERE NOT EXISTS`, the parameters typed by the target columns): a
 * redelivery leaves no gap in the ids. ON CONFLICT still decides a race with a concurrent writer.
 */
function insertUnlessTaken(table: PlainTable, values: Record<string, unknown>, uniqueColumn: string, returning?: Returning): Write {
  const { cols, params } = assignments(table, values);
  const name = info(table).name;
  const at = cols.indexOf(uniqueColumn);
  if (at < 0) throw new Error(`insertUnlessTaken: no value for ${name}.${uniqueColumn}`);
  return {
    sql: memo(`T ${name} ${uniqueColumn} ${returning} ${cols.join(" ")}`, () =>
      `INSERT INTO "${name}" (${cols.map((c) => `"${c}"`).join(", ")}) SELECT ${cols.map(() => "?").join(", ")} ` +
      `WHERE NOT EXISTS (SELECT 1 FROM "${name}" WHERE "${uniqueColumn}" = ?) ON CONFLICT ("${uniqueColumn}") DO NOTHING${returningSql(table, returning)}`),
    params: [...params, params[at]],
  };
}

/**
 * insertReturning() (or insertReturningUnlessTaken() with `uniqueColumn`) plus one row of a child
 * table that points to the new row by `parentColumn`, inserted only when the row was; returns the new
 * row (but blobs) and the child's id. One statement on PostgreSQL (data-modifying WITHs, the child
 * reading the new id), two on SQLite.
 */
export async function insertWithChild<T extends { id: number }>(
  db: Db,
  table: PlainTable,
  values: Record<string, unknown>,
  child: { table: PlainTable; parentColumn: string; values: Record<string, unknown> },
  uniqueColumn?: string,
): Promise<{ row: T; childId: number } | undefined> {
  if (db.engine !== "postgres") {
    const row = uniqueColumn ? await insertReturningUnlessTaken<T>(db, table, values, uniqueColumn) : await insertReturning<T>(db, table, values);
    return row && { row, childId: await insertRow(db, child.table, { ...child.values, [child.parentColumn]: row.id }) };
  }
  const p = uniqueColumn ? insertUnlessTaken(table, values, uniqueColumn) : insertWrites(table, [values])[0];
  const c = assignments(child.table, child.values);
  const parent = info(child.table).columns.get(child.parentColumn);
  if (!parent) throw new Error(`no column ${child.parentColumn} in ${info(child.table).name}`);
  const sql =
    `WITH p AS (${p.sql} RETURNING ${info(table).select}), ` +
    `c AS (INSERT INTO "${info(child.table).name}" ("${parent}", ${c.cols.map((x) => `"${x}"`).join(", ")}) SELECT "id", ${c.cols.map(() => "?").join(", ")} FROM p RETURNING "id") ` +
    `SELECT p.*, (SELECT "id" FROM c) AS "childRowId" FROM p`;
  const found = await db.get<Record<string, unknown>>(sql, [...p.params, ...c.params]);
  if (!found) return undefined;
  const { childRowId, ...row } = found;
  return { row: mapRow<T>(table, row), childId: Number(childRowId) };
}

/**
 * INSERT of a row whose `column` is `prefix` + its own id, zero-padded to `digits` (longer ids as they
 * are), in one statement: the id is drawn first. PostgreSQL draws it from the table's identity
 * sequence. SQLite takes the next AUTOINCREMENT value (the larger of the counter and the highest id,
 * plus one, as SQLite itself does): every caller holds the write transaction and SQLite has one
 * writer, so no other insert can take it meanwhile. Before this, SQLite inserted and then updated the
 * row (issue 12: one statement fewer for each new issue). Returns the new row (but blobs).
 */
export async function insertNumbered<T>(db: Db, table: PlainTable, values: Record<string, unknown>, column: string, prefix: string, digits: number): Promise<T> {
  const t = info(table);
  const target = t.columns.get(column);
  if (!target) throw new Error(`no column ${column} in ${t.name}`);
  if (db.nextId) {
    // The same number the statement below makes (lpad to `digits`, longer ids as they are).
    const id = await db.nextId(t.name);
    return insertAhead<T>(db, table, id, { ...values, [column]: prefix + String(id).padStart(digits, "0") });
  }
  const { cols, params } = assignments(table, values);
  const sql = memo(`N ${db.engine} ${t.name} ${target} ${digits} ${cols.join(" ")}`, () => numberedSql(db.engine, t, target, cols, digits));
  return mapRow<T>(table, await db.get(sql, [prefix, ...params]));
}

function numberedSql(engine: Db["engine"], t: TableInfo, target: string, cols: string[], digits: number): string {
  const next =
    engine === "postgres"
      ? `SELECT nextval(pg_get_serial_sequence('"${t.name}"', 'id')) AS id`
      : `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '${t.name}'), 0), coalesce((SELECT max("id") FROM "${t.name}"), 0)) + 1 AS id`;
  const numbered = engine === "postgres" ? `lpad(n.id::text, greatest(${digits}, length(n.id::text)), '0')` : `printf('%0${digits}d', n.id)`;
  return (
    `WITH n AS (${next}) ` +
    `INSERT INTO "${t.name}" ("id", "${target}"${cols.map((c) => `, "${c}"`).join("")}) ` +
    `SELECT n.id, CAST(? AS TEXT) || ${numbered}${cols.map(() => ", ?").join("")} FROM n RETURNING ${t.select}`
  );
}

/**
 * INSERT of a row with an id drawn ahead (Db.nextId), deferred: nobody waits for it, and a failure
 * fails the unit it belongs to (Db.defer). Returns the row as it will be, as insertReturning would
 * (but blobs, which are written): every column is written (the values given, null included, false
 * for other booleans, NULL for the rest), so no default of the database makes the stored row
 * differ from the one returned.
 */
export async function insertAhead<T>(db: Db, table: PlainTable, id: number, values: Record<string, unknown>, opts?: DeferOptions): Promise<T> {
  const row: Record<string, unknown> = {};
  const booleans = info(table).booleans;
  for (const k of Object.keys(table.columns)) if (!table.blobs.includes(k)) row[k] = values[k] !== undefined ? values[k] : booleans.has(k) ? false : null;
  row.id = id;
  const blobs = Object.fromEntries(table.blobs.filter((k) => values[k] !== undefined).map((k) => [k, values[k]]));
  const w = insertWrites(table, [{ ...row, ...blobs }])[0];
  await db.defer(w.sql, w.params, opts);
  return mapRow<T>(table, row);
}

/** A statement with its parameters, built here and run by runWrites(). */
export interface Write {
  sql: string;
  params: unknown[];
}

// Parameters in one statement, well under both engines' limits (SQLite 32,766; PostgreSQL 65,535):
// a hostile mail may carry thousands of attachments.
const MAX_PARAMS = 10_000;

/** INSERTs of rows with the same properties: as few statements as the parameter limit allows. */
export function insertWrites(table: PlainTable, rows: Record<string, unknown>[]): Write[] {
  if (!rows.length) return [];
  const all = rows.map((r) => assignments(table, r));
  const cols = all[0].cols;
  if (all.some((a) => a.cols.join() !== cols.join())) throw new Error(`insertWrites: rows of ${info(table).name} differ in their properties`);
  const per = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, cols.length)));
  const out: Write[] = [];
  for (let i = 0; i < all.length; i += per) {
    const part = all.slice(i, i + per);
    out.push({ sql: insertSql(table, cols, part.length), params: part.flatMap((a) => a.params) });
  }
  return out;
}

/** UPDATE of the given properties of one row by id, or null when there are none. */
export function updateWrite(table: PlainTable, id: number, patch: Record<string, unknown>): Write | null {
  const { cols, params } = assignments(table, patch);
  return cols.length ? { sql: updateSql(table, cols), params: [...params, id] } : null;
}

/**
 * Writes whose results nobody reads, in order. On PostgreSQL they go as one statement, each but the
 * last a data-modifying WITH (it runs to completion, read or not: postgresql.org/docs/current/
 * queries-with.html#QUERIES-WITH-MODIFYING), and in a transaction that statement is not waited for:
 * it goes with the next one (Db.defer), so it costs no round trip of its own. SQLite runs them one
 * by one (a statement is a function call there, and it has no data-modifying WITH).
 */
export async function runWrites(db: Db, writes: (Write | null)[]): Promise<void> {
  const ws = writes.filter((w): w is Write => w !== null);
  if (db.engine !== "postgres") {
    for (const w of ws) await db.run(w.sql, w.params);
    return;
  }
  // Consecutive writes together while their parameters stay under the limit.
  for (let i = 0; i < ws.length; ) {
    let n = 1;
    let params = ws[i].params.length;
    while (i + n < ws.length && params + ws[i + n].params.length <= MAX_PARAMS) params += ws[i + n++].params.length;
    const group = ws.slice(i, i + n);
    const last = group[group.length - 1];
    const sql = group.length === 1 ? last.sql : `WITH ${group.slice(0, -1).map((w, k) => `w${k} AS (${w.sql})`).join(", ")} ${last.sql}`;
    await db.defer(sql, group.flatMap((w) => w.params));
    i += n;
  }
}

/** INSERT of rows with the same properties, in as few statements as the parameter limit allows. */
export async function insertRows(db: Db, table: PlainTable, rows: Record<string, unknown>[]): Promise<void> {
  await runWrites(db, insertWrites(table, rows));
}

/** What a statement returns: the new id, or the whole row but blobs; nothing when undefined. */
type Returning = "id" | "row" | undefined;

function returningSql(table: PlainTable, returning: Returning): string {
  return returning === "id" ? ` RETURNING "id"` : returning === "row" ? ` RETURNING ${info(table).select}` : "";
}

/** INSERT of `rows` rows with these columns. */
function insertSql(table: PlainTable, cols: string[], rows = 1, returning?: Returning): string {
  const make = () => {
    const tuple = `(${cols.map(() => "?").join(", ")})`;
    return `INSERT INTO "${info(table).name}" (${cols.map((c) => `"${c}"`).join(", ")}) VALUES ${Array(rows).fill(tuple).join(", ")}${returningSql(table, returning)}`;
  };
  return rows === 1 ? memo(`I ${info(table).name} ${returning} ${cols.join(" ")}`, make) : make();
}

/** UPDATE of these columns of one row by id. */
function updateSql(table: PlainTable, cols: string[], returning?: Returning): string {
  return memo(`U ${info(table).name} ${returning} ${cols.join(" ")}`, () => `UPDATE "${info(table).name}" SET ${cols.map((c) => `"${c}" = ?`).join(", ")} WHERE "id" = ?${returningSql(table, returning)}`);
}

/** UPDATE the given properties of one row by id; returns the row as it is now (but blobs). */
export async function updateReturning<T>(db: Db, table: PlainTable, id: number, patch: Record<string, unknown>): Promise<T | undefined> {
  const { cols, params } = assignments(table, patch);
  if (!cols.length) return getOne<T>(db, table, `WHERE "id" = ?`, id);
  return mapRow<T>(table, await db.get(updateSql(table, cols, "row"), [...params, id])) ?? undefined;
}

/** UPDATE the given properties of one row by id. */
export async function updateRow(db: Db, table: PlainTable, id: number, patch: Record<string, unknown>): Promise<void> {
  await runWrites(db, [updateWrite(table, id, patch)]);
}

export async function getOne<T>(db: Db, table: PlainTable, rest: string, ...params: unknown[]): Promise<T | undefined> {
  return mapRow<T>(table, await db.get(selectSql(table, rest), params)) ?? undefined;
}

export async function getAll<T>(db: Db, table: PlainTable, rest: string, ...params: unknown[]): Promise<T[]> {
  return (await db.all(selectSql(table, rest), params)).map((r) => mapRow<T>(table, r));
}
