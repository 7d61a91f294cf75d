// The PostgreSQL engine of the store (issue 11): several mail hosts, one database. A pg
// (node-postgres) pool; a transaction holds one pooled connection from BEGIN to COMMIT. The caller
// loads this module with a dynamic import, and only for a postgres:// URL: nothing else imports pg,
// so the embedded default never pays for loading it (issue 5, cold start).
import pg from "./driver.js";
import type { Pool, PoolClient, QueryConfig, QueryResult } from "pg";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import type { Blobs, Db, DeferOptions, Store, TxOptions } from "../store.js";
import { PostgresBlobs } from "./blobs.js";
import { LateUnitFailure } from "../../errors.js";
import { mapFault } from "./faults.js";
import { toNumbered } from "./placeholders.js";
import { ensureSchema, programSchemaVersion } from "./migrate.js";
import { checkSchemaObjects } from "./integrity.js";
import { IdsAhead } from "./ids-ahead.js";

export { UniqueViolation } from "./faults.js";

export interface PostgresOpenOptions {
  /**
   * How long to wait for a lock or a connection (config busyTimeoutMs, SQLite's busy timeout):
   * lock_timeout, and the pool's connect timeout (at least connectFloorMs). Statements get 4× that
   * (at least a minute).
   */
  busyTimeoutMs: number;
  /** Every transaction READ ONLY (default_transaction_read_only); no migrations on open. */
  readonly?: boolean;
  /** Connections at most (default 10); the CLI's one-mail run needs one or two. */
  poolSize?: number;
}

/** What the named queries get back, as from SQLite: counts and sums as numbers, booleans as 0/1. */
const PARSERS: Record<number, (v: string) => unknown> = {
  20: Number, // int8: count(*), sum(integer); exact up to 2^53, far past any count here
  1700: Number, // numeric: sum(bigint), avg()
  16: (v) => (v === "t" ? 1 : 0), // bool: `x IS NULL AS "y"` reads 0/1 on both engines
};
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    (format !== "binary" && PARSERS[oid]) || pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** Opens the store; applies the migrations of drizzle/postgres/ first (or refuses the database). */
export async function openPostgresStore(url: string, opts: PostgresOpenOptions): Promise<Store> {
  libpqDefaults();
  const location = withoutPassword(url);
  const settings = sessionSettings(opts);
  let perTransaction = "";
  let pool = newPool(url, opts, settings);
  try {
    try {
      await ensureSchema(pool, location, opts.readonly ?? false);
    } catch (e) {
      if (!refusedStartup(e)) throw e;
      // A connection pooler (PgBouncer refuses startup parameters it does not know, unless told to
      // ignore them): the same settings, SET LOCAL at the start of every transaction instead, in
      // the BEGIN's own round trip. Statements outside a transaction keep the client's query_timeout.
      // And unnamed statements from the first one: in transaction pooling a server connection may
      // hold another process's statement of the same name (42P05), and staging, the first
      // transaction of a delivery, is not run again (the MTA would be answered 75 every time).
      await pool.end().catch(() => {});
      unnamed = true;
      // (transaction_read_only: the default for later transactions would not make this one read-only.)
      perTransaction = Object.entries(settings)
        .map(([k, v]) => `; SET LOCAL ${k === "default_transaction_read_only" ? "transaction_read_only" : k} = ${v}`)
        .join("");
      pool = newPool(url, opts, null);
      await ensureSchema(pool, location, opts.readonly ?? false, perTransaction);
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw toFault(e, location);
  }
  return new PostgresStore(pool, location, perTransaction);
}

/**
 * What every connection is set to, sent with its startup packet (no round trip of its own).
 * Nothing hangs forever (issue 11.3): a lock wait ends after busyTimeoutMs (55P03), a statement or
 * an idle open transaction after 4× that, at least a minute (57014, 25P03); a readonly store's
 * transactions are all READ ONLY.
 */
function sessionSettings(opts: PostgresOpenOptions): Record<string, string | number> {
  const statementMs = statementTimeoutMs(opts);
  return {
    lock_timeout: opts.busyTimeoutMs,
    statement_timeout: statementMs,
    idle_in_transaction_session_timeout: statementMs,
    ...(opts.readonly ? { default_transaction_read_only: "on" } : {}),
  };
}

const statementTimeoutMs = (opts: PostgresOpenOptions) => Math.max(4 * opts.busyTimeoutMs, 60_000);

/**
 * Connecting (a new server backend, its authentication) or waiting for a free pooled connection
 * takes busyTimeoutMs, but at least this long: a short busyTimeoutMs is a budget for waiting on
 * another writer's lock, and a loaded server took longer than 100 ms to start a backend (exit 75
 * on a mail nobody else was writing).
 */
export const connectFloorMs = 5_000;

/** PgBouncer's answer to a startup parameter it does not pass on (08P01, protocol violation). */
function refusedStartup(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === "08P01" && /unsupported startup parameter/i.test(String(err.message));
}

/** The pool; `settings` go with each connection's startup packet (null: none, for a pooler). */
function newPool(url: string, opts: PostgresOpenOptions, settings: Record<string, string | number> | null): Pool {
  const { default_transaction_read_only: readonly, ...timeouts } = settings ?? {};
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: Math.max(opts.busyTimeoutMs, connectFloorMs),
    ...timeouts,
    // A server that stopped answering: given up on our side after the statement timeout and the busy timeout.
    query_timeout: statementTimeoutMs(opts) + opts.busyTimeoutMs,
    keepAlive: true,
    // Several statements on the wire at once (Conn): node-postgres' pipeline mode.
    pipeline: true,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    fallback_application_name: "ingest-mail",
    options: readonly ? "-c default_transaction_read_only=on" : undefined,
    types,
  });
  // An idle connection the server dropped (restart, idle timeout): the pool discards it; the next
  // query gets a new one. Without a listener the process would die of the 'error' event.
  pool.on("error", () => {});
  return pool;
}

/**
 * libpq's defaults where node-postgres has its own (the issue promises libpq's behaviour): a URL
 * without a host (`postgresql:///ingest`) and no PGHOST means the local server's unix socket, not
 * TCP to localhost; no user and no PGUSER means the effective OS user (after a switch of user too),
 * not $USER. The URL and PG* variables still win, as in libpq.
 */
function libpqDefaults(): void {
  if (pg.defaults.host === "localhost") pg.defaults.host = existsSync("/var/run/postgresql") ? "/var/run/postgresql" : "/tmp";
  try {
    pg.defaults.user = userInfo().username;
  } catch {
    // no passwd entry for this uid: keep $USER
  }
}

/** The URL as a person may read it: no password, neither in the user part nor as a parameter. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password && !u.searchParams.has("password")) return url;
    u.password = "";
    u.searchParams.delete("password");
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*):[^@/]*@/, "$1@").replace(/([?&]password=)[^&]*/, "$1***");
  }
}

interface Ctx {
  readonly location: string;
  /** Ids drawn ahead, by table (TxOptions.batch): ids-ahead.ts. */
  readonly ahead: IdsAhead;
}

/**
 * `?` → `$n`, and the statement's name, once per distinct SQL text (a few dozen named queries, and
 * the filters' variants). Named statements are parsed and planned once per connection instead of
 * at every execution: `import` of 2,000 mails ran at 121–144 msg/s against 86–99 unnamed (bench,
 * paired). The name comes from the text, so it means the same statement in every process.
 */
const numbered = new Map<string, { text: string; name: string }>();
function query(sql: string, params: readonly unknown[] | undefined): QueryConfig {
  let n = numbered.get(sql);
  if (n === undefined) {
    if (numbered.size >= 2000) numbered.clear(); // list filters combine: bounded all the same
    const text = toNumbered(sql);
    numbered.set(sql, (n = { text, name: `im_${createHash("sha1").update(text).digest("hex").slice(0, 20)}` }));
  }
  return { text: n.text, name: unnamed ? undefined : n.name, values: params?.length ? params.map(toDriver) : undefined };
}

/**
 * Set for the rest of the process behind a pooler (it refused our startup parameters), or when the
 * server lost or already had one of our named statements: a pooler in transaction mode (PgBouncer
 * before 1.21) moves a client between server connections. The fault is a StorageFault with retry
 * (faults.ts), so a workflow's transaction runs again, unnamed.
 */
let unnamed = false;
const PREPARED_LOST = new Set(["26000", "42P05"]);

/** A driver error as mapFault makes it, after noting a named statement the server lost. */
function toFault(e: unknown, location: string): unknown {
  if (PREPARED_LOST.has(String((e as { code?: unknown })?.code))) unnamed = true;
  return mapFault(e, location);
}

/** Booleans are 0/1 columns on both engines (schema.ts); undefined is NULL, as on SQLite. */
const toDriver = (v: unknown) => (typeof v === "boolean" ? (v ? 1 : 0) : v === undefined ? null : v);

/** Queries on one connection inside a transaction; write() on it is a savepoint. */
class TxDb implements Db {
  readonly engine = "postgres" as const;
  readonly blobs: Blobs = new PostgresBlobs(this);
  /** Savepoints on this level run one after the other (two at once would interleave). */
  private last: Promise<unknown> = Promise.resolve();
  readonly nextId?: (table: string) => Promise<number>;
  readonly early?: <T>(build: (db: Db) => T) => T;

  constructor(
    private readonly conn: Conn,
    private readonly depth: number,
    private readonly batch: boolean,
    /** Its units end unconfirmed (TxOptions.unconfirmed, given to this one or an enclosing unit). */
    private readonly unconfirmedEnds = false,
    /** Db.early's: reads held with their answers kept, sent when `early` returns. */
    private readonly sentEarly = false,
  ) {
    if (batch) this.nextId = (table) => conn.ctx.ahead.take(conn, table, (sql) => query(sql, undefined));
    if (batch && !sentEarly) this.early = (build) => this.sendEarly(build);
  }

  private ask(sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    const config = query(sql, params);
    return this.sentEarly ? this.conn.prefetch(config).answer : this.conn.run(config);
  }

  async all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await this.ask(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return (await this.ask(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return { changes: (await this.ask(sql, params)).rowCount ?? 0 };
  }

  async defer(sql: string, params?: readonly unknown[], opts?: DeferOptions): Promise<void> {
    this.conn.hold(query(sql, params));
    if (opts?.replayOnFailure) this.conn.replayOnFailure();
  }

  /** Db.early: what `build` asks is held in order, then sent in one write with everything held before it. */
  private sendEarly<T>(build: (db: Db) => T): T {
    const result = build(new TxDb(this.conn, this.depth, this.batch, this.unconfirmedEnds, true));
    this.conn.replayOnFailure();
    this.conn.write();
    return result;
  }

  write<T>(fn: (tx: Db) => Promise<T>, opts?: TxOptions): Promise<T> {
    if (opts?.noSavepoint) return fn(this);
    const next = this.last.then(() => this.savepoint(fn, this.unconfirmedEnds || opts?.unconfirmed === true));
    this.last = next.catch(() => {});
    return next;
  }

  /**
   * One unit of a batch (import: one mail) undone alone, the transaction going on. SAVEPOINT goes
   * with fn's first statement. RELEASE is waited for only when fn left statements nobody has seen
   * answered (a deferred write): a unit is done only once all of its statements are known to have
   * succeeded; otherwise it goes with whatever follows. `unconfirmed`: it goes with whatever
   * follows all the same, and a failure of the unit's found later is a LateUnitFailure.
   */
  private async savepoint<T>(fn: (tx: Db) => Promise<T>, unconfirmed: boolean): Promise<T> {
    const name = `s${this.depth + 1}`;
    const start = this.conn.hold(`SAVEPOINT ${name}`);
    try {
      const result = await fn(new TxDb(this.conn, this.depth + 1, this.batch, unconfirmed));
      if (!this.conn.unconfirmed()) this.conn.hold(`RELEASE SAVEPOINT ${name}`);
      else if (!unconfirmed) await this.conn.run(`RELEASE SAVEPOINT ${name}`);
      else this.conn.endedUnconfirmed = this.conn.hold(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (e) {
      // Known answers first: which statement failed decides what can be undone.
      await this.conn.settle();
      const failure = this.conn.failure;
      // The savepoint itself failed, or something before it: it cannot be rolled back to; the
      // enclosing unit (or the transaction) is undone instead, having kept the failure.
      if (failure && failure.seq <= start) throw this.conn.late(failure) ?? e;
      try {
        await this.conn.control(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
        this.conn.failure = null;
      } catch {
        this.conn.broken = true;
      }
      throw e;
    }
  }

  /** Already inside a transaction: its view (a write transaction sees what it wrote). */
  read<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async lockKey(key: string): Promise<void> {
    // Held like a deferred write: the server takes the lock before it runs the statements sent
    // after it, so it is held where it matters; a lock that timed out fails the next statement.
    this.conn.hold(query(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, [key]));
  }
}

/** A statement and its place in the order the transaction's statements are sent. */
interface Statement {
  config: QueryConfig | string;
  seq: number;
  /** Told the answer (Conn.prefetch). */
  answer?: { resolve: (r: QueryResult) => void; reject: (e: unknown) => void };
}

/** The first statement that failed in a transaction, with its place in the order they were sent. */
interface Failure {
  seq: number;
  error: unknown;
  /** Thrown to the transaction's code at least once (which went on regardless, or undid its unit). */
  seen?: boolean;
}

/**
 * A pooled connection held for one transaction. The pool's connections run in pipeline mode: the
 * statements nobody waits for (SAVEPOINT, RELEASE, lockKey, deferred writes) are held here and
 * written with the next statement that is waited for, in one write, and answered in one round
 * trip: an imported mail took 14 round trips, then 7, now 1 (docs/store.md). The server runs them in
 * order, and in a transaction a failed statement fails every one after it, so an answer without
 * error vouches for every statement before it. The first failure is kept with its place: the next
 * statement, the savepoint it falls in, or the commit raises it.
 */
class Conn {
  /** Lost or unusable: destroyed on release instead of going back to the pool. */
  broken = false;
  /** The first failure since the transaction began (or since the savepoint it fell in was undone). */
  failure: Failure | null = null;
  /** The last statement of a unit that ended before its statements were confirmed (TxOptions.unconfirmed). */
  endedUnconfirmed = 0;
  private held: Statement[] = [];
  /** A write of the held statements is due at the end of this turn (run()). */
  private sending = false;
  /** Statements numbered in the order they are sent; the highest one answered without error. */
  private numbered = 0;
  private confirmed = 0;
  private lastSent: Promise<unknown> = Promise.resolve();
  private readonly onError = () => (this.broken = true);

  constructor(
    readonly client: PoolClient,
    readonly ctx: Ctx,
  ) {
    // The server may drop the connection while fn works between two queries.
    client.on("error", this.onError);
  }

  /** A statement sent with the next one waited for; its number. Throws the transaction's failure. */
  hold(config: QueryConfig | string): number {
    if (this.failure) this.raise();
    const seq = ++this.numbered;
    this.held.push({ config, seq });
    return seq;
  }

  /**
   * A read held like a deferred write, whose answer is kept: it rides with the next statement
   * waited for. Rejected if the transaction ends before it is sent, or fails before it.
   */
  prefetch(config: QueryConfig | string): { seq: number; answer: Promise<QueryResult> } {
    if (this.failure) this.raise();
    return this.enqueue(config);
  }

  /**
   * A failure of any statement asked so far is a LateUnitFailure: the transaction is run again
   * (Db.early, DeferOptions.replayOnFailure).
   */
  replayOnFailure(): void {
    this.endedUnconfirmed = Math.max(this.endedUnconfirmed, this.numbered);
  }

  /** A statement held with its place in the order, and the promise of its answer. */
  private enqueue(config: QueryConfig | string): { seq: number; answer: Promise<QueryResult> } {
    const seq = ++this.numbered;
    const answer = new Promise<QueryResult>((resolve, reject) => this.held.push({ config, seq, answer: { resolve, reject } }));
    return { seq, answer };
  }

  /** The statement of this number is held, not yet sent. */
  holds(seq: number): boolean {
    return this.held.some((s) => s.seq === seq);
  }

  /**
   * A statement waited for, sent with the held ones before it, and with every other statement
   * asked for before this turn of the event loop ends: reads sent one after the other without
   * waiting (import's read-ahead and staging insert) go in one write, which wakes the server once
   * (each write cost 40-90 us of our CPU in writev, import's largest item in a profile).
   */
  async run(config: QueryConfig | string): Promise<QueryResult> {
    if (this.failure) this.raise();
    const { answer } = this.enqueue(config);
    if (!this.sending) {
      this.sending = true;
      process.nextTick(() => {
        this.sending = false;
        this.write();
      });
    }
    try {
      return await answer;
    } catch (e) {
      // The first failure is the cause; a statement after it only says the transaction is aborted.
      if (this.failure) this.raise();
      throw e; // not sent: the transaction ended first
    }
  }

  /** Throws the transaction's first failure to its code (which then knows of it). */
  private raise(): never {
    this.failure!.seen = true;
    throw this.late(this.failure!) ?? this.failure!.error;
  }

  /** A failure of a unit that had ended already: the transaction cannot be kept (LateUnitFailure). */
  late(f: Failure): LateUnitFailure | undefined {
    return f.seq <= this.endedUnconfirmed ? new LateUnitFailure(f.error) : undefined;
  }

  /** Statements answered but not yet vouched for: held ones, or sent ones still unanswered. */
  unconfirmed(): boolean {
    return this.held.length > 0 || this.confirmed < this.numbered;
  }

  /** Every statement sent and answered (a unit that failed: which statement failed decides). */
  async settle(): Promise<void> {
    this.write();
    await this.lastSent.catch(() => {});
  }

  /** BEGIN, ROLLBACK: our own control statements, sent at once, whatever failed before. */
  async control(sql: string): Promise<QueryResult> {
    for (const s of this.held) s.answer?.reject(new Error("not sent: the transaction ended first"));
    this.held = [];
    try {
      const r = (await this.client.query(sql)) as QueryResult | QueryResult[];
      return Array.isArray(r) ? r[r.length - 1] : r;
    } catch (e) {
      throw this.fault(e);
    }
  }

  /**
   * The held statements, in one write to the socket (corked), so the server wakes once for all
   * of them; `lastSent` is the last one's answer. Each answer is noted: success vouches for every
   * statement up to it.
   */
  write(): void {
    const batch = this.held;
    if (!batch.length) return;
    this.held = [];
    const stream = this.client.connection.stream;
    stream.cork();
    try {
      for (const { config, seq, answer } of batch) {
        const p = this.client.query(config);
        p.then(
          () => (this.confirmed = Math.max(this.confirmed, seq)),
          (e) => (this.failure ??= { seq, error: this.fault(e) }),
        );
        if (answer) p.then(answer.resolve, answer.reject);
        this.lastSent = p;
      }
    } finally {
      stream.uncork();
    }
  }

  private fault(e: unknown): unknown {
    // A socket error (E…), no code at all (pg's own: terminated, read timeout), a connection
    // exception (08) or a server shutdown (57P): the connection is not to be used again.
    const code = String((e as { code?: unknown })?.code ?? "");
    if (!code || code[0] === "E" || code.startsWith("08") || code.startsWith("57P")) this.broken = true;
    return toFault(e, this.ctx.location);
  }

  release(): void {
    this.client.off("error", this.onError);
    this.client.release(this.broken);
  }
}

/** The tables a purge deletes from (store/queries/purge-queries.ts; the blobs: maintenance/purge.ts). */
const PURGED = ["blobs", "blob_chunks", "staged_mails", "staged_mail_status_history", "attachments", "interactions", "actions", "issues", "issue_history", "issue_notes", "outbound_mails", "user_identifications", "users"];

class PostgresStore implements Store {
  readonly engine = "postgres" as const;
  readonly blobs: Blobs = new PostgresBlobs(this);
  private closed?: Promise<void>;
  private readonly ctx: Ctx;

  constructor(
    private readonly pool: Pool,
    readonly location: string,
    /** `; SET LOCAL …` of the session settings, behind a pooler that refused them at startup; else "". */
    private readonly perTransaction = "",
  ) {
    this.ctx = { location, ahead: new IdsAhead() };
  }

  private async q(sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    try {
      return await this.pool.query(query(sql, params));
    } catch (e) {
      throw toFault(e, this.location);
    }
  }

  async all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await this.q(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return (await this.q(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return { changes: (await this.q(sql, params)).rowCount ?? 0 };
  }

  /** Outside a transaction there is nothing to send it with, and no later point to raise its failure. */
  async defer(sql: string, params?: readonly unknown[]): Promise<void> {
    await this.q(sql, params);
  }

  /**
   * READ COMMITTED, PostgreSQL's default, on purpose: a claim (`UPDATE … WHERE status = 'new'`)
   * that waits for another's row lock re-reads the row and finds it taken, instead of failing with
   * a serialization error. A commit that need not be durable (all but staging, issue 9.7: the rest
   * is redone from the staged record) skips the wait for the WAL flush (synchronous_commit off): a
   * crash of the server may lose it, never corrupt; SQLite's synchronous=NORMAL is the same bargain.
   * secureDelete has no per-transaction switch here: compact() rewrites the purged tables.
   */
  write<T>(fn: (tx: Db) => Promise<T>, opts?: TxOptions): Promise<T> {
    return this.transaction(opts?.durable ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit = off", fn, opts?.batch === true);
  }

  /** One snapshot for every statement of fn; no serialization failures in READ ONLY. */
  read<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn);
  }

  private async transaction<T>(begin: string, fn: (tx: Db) => Promise<T>, batch = false): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toFault(e, this.location);
    }
    const conn = new Conn(client, this.ctx);
    try {
      await conn.control(begin + this.perTransaction);
      let result: T;
      let end: QueryResult;
      const caught = () => new Error("the transaction was rolled back: a statement in it failed (an error caught inside the transaction; use a nested write for a step that may fail)");
      try {
        result = await fn(new TxDb(conn, 0, batch));
        if (conn.failure?.seen) throw conn.late(conn.failure) ?? caught();
        // The held statements go with the COMMIT; a failure known before it is raised instead.
        end = await conn.run("COMMIT");
      } catch (e) {
        await conn.control("ROLLBACK").catch(() => (conn.broken = true));
        throw e;
      }
      // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error: a
      // statement sent with the COMMIT failed (its error is the cause), or fn caught an error and
      // went on. Nothing is stored either way.
      if (end.command === "ROLLBACK") {
        const failure = conn.failure;
        throw (failure && conn.late(failure)) ?? (failure && !failure.seen ? failure.error : caught());
      }
      return result;
    } finally {
      conn.release();
    }
  }

  lockKey(): Promise<void> {
    return Promise.reject(new Error("lockKey() outside a transaction: call it on the transaction (write(tx => tx.lockKey(…)))"));
  }

  async describe(): Promise<Record<string, string | number | boolean | null>> {
    const row = await this.get<Record<string, string | number | null>>(
      `SELECT current_setting('server_version') AS "serverVersion", current_database() AS "database", current_schema() AS "schema",
              current_user AS "user", pg_database_size(current_database()) AS "sizeBytes",
              (SELECT datcollate FROM pg_database WHERE datname = current_database()) AS "collation",
              pg_encoding_to_char((SELECT encoding FROM pg_database WHERE datname = current_database())) AS "encoding",
              (SELECT version FROM ingest_mail_schema) AS "schemaVersion"`,
    );
    return { engine: "postgres", location: this.location, ...row, programSchemaVersion: programSchemaVersion() };
  }

  /**
   * After a purge (issue 14): the deleted rows' space given back and no trace of them left in the
   * table files. A plain VACUUM only marks the space reusable and leaves the old bytes in the pages,
   * so VACUUM (FULL, ANALYZE) rewrites the tables a purge deletes from (their TOAST, raw mail and
   * bodies, and indexes too) into new files. Like SQLite's VACUUM it holds off writers meanwhile:
   * ingest waits up to lock_timeout, then answers 75 and the MTA retries. Then a CHECKPOINT, so the
   * WAL that still holds the rows can be recycled: "skipped" when the role may not (superuser or
   * pg_checkpoint); replicas and WAL archives keep their own copies either way.
   */
  async compact(): Promise<{ checkpoint: "done" | "busy" | "skipped" }> {
    await this.q(`VACUUM (FULL, ANALYZE) ${PURGED.join(", ")}`);
    try {
      await this.q(`CHECKPOINT`);
      return { checkpoint: "done" };
    } catch (e) {
      if ((e as { code?: string }).code === "42501") return { checkpoint: "skipped" }; // insufficient_privilege
      throw e;
    }
  }

  /** Schema version, every table and index of the schema present, no index left invalid. */
  async integrityCheck(): Promise<string> {
    const problems: string[] = [];
    const version = (await this.get<{ version: number }>(`SELECT version FROM ingest_mail_schema`))?.version;
    if (version !== programSchemaVersion()) problems.push(`schema version ${version ?? "missing"}, this program's is ${programSchemaVersion()}`);
    problems.push(...(await checkSchemaObjects(this)));
    return problems.length ? problems.join("; ") : "ok";
  }

  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }
}
