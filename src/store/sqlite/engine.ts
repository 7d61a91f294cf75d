// The SQLite engine of the store (issue 11): better-sqlite3 behind the asynchronous interface.
// better-sqlite3 is synchronous, so a statement is a function call and a transaction is BEGIN …
// COMMIT around awaited work; within one process only one transaction may hold the connection at a
// time, so transactions (and statements issued meanwhile outside them) wait their turn here.
import Database from "better-sqlite3";
import { StorageFault } from "../../errors.js";
import type { Db, Store, TxOptions } from "../store.js";
import { programSchemaVersion } from "./open.js";

/** Lets the LMTP daemon's two threads hand the write lock over without SQLite's busy sleeps. */
export interface WriteTurn {
  /** Waits for the turn without blocking the thread: its event loop goes on meanwhile. */
  acquireAsync(): Promise<void>;
  release(): void;
}

export interface SqliteStoreOptions {
  location: string;
  /** Taken before BEGIN IMMEDIATE and given back after COMMIT/ROLLBACK (serve/write-lock.ts). */
  writeTurn?: WriteTurn;
  /** Wait for another process's write lock this long in all, yielding between tries (open.ts); else SQLite's busy timeout alone. */
  waitBusyMs?: number;
}

// Codes of faults in the storage rather than in our SQL: the MTA is told to retry (75).
const transient = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOLFS|CORRUPT|NOTADB)/;

export function mapSqliteError(e: unknown, location: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && transient.test(code)) return new StorageFault(`${(e as Error).message} (database ${location})`, code);
  return e;
}

class Connection {
  private readonly statements = new Map<string, Database.Statement>();
  /** close() was called: a transaction waiting for the write lock stops waiting. */
  closing = false;
  /** The end of the queue of transactions waiting for the connection. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly client: Database.Database,
    readonly opts: SqliteStoreOptions,
  ) {}

  prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.client.prepare(sql)));
    return s;
  }

  /** The `synchronous` level this connection was last set to by a transaction (null: not yet). */
  private synchronous: "FULL" | "NORMAL" | null = null;

  /**
   * Sets `synchronous` for the transaction about to begin, only when it differs from the last one:
   * a connection that only stages (the daemon's) keeps FULL, where setting it before and after each
   * commit took two PRAGMAs under the write lock (issue 12: ~15 us a mail; better-sqlite3's pragma()
   * compiles its statement every time). A statement outside any transaction runs at the level the
   * last transaction left, FULL at most: never less durable than asked.
   */
  syncFor(durable: boolean): void {
    const want = durable ? "FULL" : "NORMAL";
    if (this.synchronous === want) return;
    this.prepare(`PRAGMA synchronous = ${want}`).run();
    this.synchronous = want;
  }

  exec<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw mapSqliteError(e, this.opts.location);
    }
  }

  /** Waits for the transactions before this one, then holds the connection until `fn` settles. */
  async turn<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise((r) => (done = r));
    await before;
    try {
      return await fn();
    } finally {
      done();
    }
  }
}

class SqliteDb implements Db {
  readonly engine = "sqlite" as const;
  /** One host: raw mail and attachments stay files in its spool and attachments folders. */
  readonly blobs = null;

  constructor(
    protected readonly conn: Connection,
    /** Savepoint depth: 0 for the store itself, 1 in a transaction, more in savepoints. */
    private readonly depth: number,
  ) {}

  /**
   * A statement runs at once, on the one connection: outside a transaction it is its own; issued on
   * the store while another flow of this process holds a transaction, it joins that transaction (a
   * single-threaded process cannot interleave inside one synchronous call; only the transactions'
   * awaits are queued). Inside a write(), always query through its `tx` (PostgreSQL needs it).
   */
  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.conn.exec(() => this.conn.prepare(sql).all(...params) as T[]);
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return this.conn.exec(() => this.conn.prepare(sql).get(...params) as T | undefined);
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<{ changes: number }> {
    return this.conn.exec(() => ({ changes: this.conn.prepare(sql).run(...params).changes }));
  }

  async defer(sql: string, params: readonly unknown[] = []): Promise<void> {
    await this.run(sql, params);
  }

  async lockKey(): Promise<void> {
    // One writer at a time already (BEGIN IMMEDIATE): a read-then-write in a write transaction
    // cannot race another process's.
  }

  write<T>(fn: (tx: Db) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    if (this.depth > 0) return opts.noSavepoint ? fn(this) : this.savepoint(fn);
    return this.transaction("BEGIN IMMEDIATE", fn, opts.durable === true, opts.secureDelete === true);
  }

  read<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.depth > 0) return fn(this);
    return this.transaction("BEGIN", fn, false, false);
  }

  private async savepoint<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp${this.depth}`;
    const c = this.conn;
    c.exec(() => c.client.exec(`SAVEPOINT ${name}`));
    try {
      const r = await fn(new SqliteDb(c, this.depth + 1));
      c.exec(() => c.client.exec(`RELEASE ${name}`));
      return r;
    } catch (e) {
      c.exec(() => c.client.exec(`ROLLBACK TO ${name}; RELEASE ${name}`));
      throw e;
    }
  }

  private transaction<T>(begin: string, fn: (tx: Db) => Promise<T>, durable: boolean, secureDelete: boolean): Promise<T> {
    const c = this.conn;
    return c.turn(async () => {
      const turn = begin === "BEGIN IMMEDIATE" ? c.opts.writeTurn : undefined;
      await turn?.acquireAsync();
      try {
        if (begin === "BEGIN IMMEDIATE") c.exec(() => c.syncFor(durable));
        if (secureDelete) c.exec(() => c.client.pragma("secure_delete = ON"));
        if (begin === "BEGIN IMMEDIATE" && c.opts.waitBusyMs !== undefined) await beginWrite(c, c.opts.waitBusyMs);
        else c.exec(() => c.client.exec(begin));
        try {
          const r = await fn(new SqliteDb(c, 1));
          c.exec(() => c.client.exec("COMMIT"));
          return r;
        } catch (e) {
          if (c.client.inTransaction) c.client.exec("ROLLBACK");
          throw mapSqliteError(e, c.opts.location);
        } finally {
          if (secureDelete) c.client.pragma("secure_delete = OFF");
        }
      } finally {
        turn?.release();
      }
    });
  }
}

export class SqliteStore extends SqliteDb implements Store {
  readonly location: string;

  constructor(client: Database.Database, opts: SqliteStoreOptions) {
    const conn = new Connection(client, opts);
    super(conn, 0);
    this.location = opts.location;
  }

  /** The driver handle, for store/sqlite/ only (maintenance, the daemon's write lock). */
  get client(): Database.Database {
    return this.conn.client;
  }

  async describe(): Promise<Record<string, string | number | boolean | null>> {
    const c = this.conn.client;
    return {
      engine: "sqlite",
      path: this.location,
      sqliteVersion: (c.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v,
      journalMode: c.pragma("journal_mode", { simple: true }) as string,
      schemaVersion: c.pragma("user_version", { simple: true }) as number,
      programSchemaVersion: programSchemaVersion(),
      // doctor: a database of an older schema lacks later tables; one without ours is another program's.
      tables: (c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name).join(","),
      pages: c.pragma("page_count", { simple: true }) as number,
      freePages: c.pragma("freelist_count", { simple: true }) as number,
      pageSize: c.pragma("page_size", { simple: true }) as number,
    };
  }

  async compact(): Promise<{ checkpoint: "done" | "busy" | "skipped" }> {
    const c = this.conn.client;
    return this.conn.turn(async () =>
      this.conn.exec(() => {
        // VACUUM builds the new file in a temporary database: on disk, not in memory (open.ts sets
        // temp_store = MEMORY for the ingest path; a large database would be held whole).
        const previous = c.pragma("temp_store", { simple: true });
        c.pragma("temp_store = FILE");
        try {
          c.exec("VACUUM");
        } finally {
          c.pragma(`temp_store = ${Number(previous)}`);
        }
        const [r] = c.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
        return { checkpoint: r && r.busy === 0 ? ("done" as const) : ("busy" as const) };
      }),
    );
  }

  checkpointEvery(pages: number): void {
    if (!Number.isInteger(pages) || pages < 0) throw new RangeError(`checkpointEvery: ${pages} is not a page count`);
    this.conn.exec(() => this.conn.client.pragma(`wal_autocheckpoint = ${pages}`));
  }

  async integrityCheck(): Promise<string> {
    const rows = this.conn.exec(() => this.conn.client.pragma("quick_check") as { quick_check: string }[]);
    return rows.map((r) => r.quick_check).join("; ");
  }

  async close(opts: { keepWal?: boolean } = {}): Promise<void> {
    if (opts.keepWal) return;
    // A transaction still waiting for another process's lock (beginWrite) gives up now, unstarted.
    this.conn.closing = true;
    await this.conn.turn(async () => {
      if (this.conn.client.open) this.conn.client.close();
    });
  }
}

/**
 * doctor (issue 14): the file opened read-only as it is found, neither migrated nor refused (an empty,
 * foreign or newer database is what doctor reports on, from describe()).
 */
export function inspectSqliteStore(path: string): SqliteStore {
  // The driver's own errors ("file is not a database"): doctor prints them as they are.
  return new SqliteStore(new Database(path, { readonly: true, fileMustExist: true }), { location: path });
}

/** Loads the driver's native part now: doctor does so before it drops root (the package may sit
 * where the delivery user cannot read). */
export function loadSqliteDriver(): void {
  new Database(":memory:").close();
}

/**
 * BEGIN IMMEDIATE, tried again every few ms while another process holds the write lock, for
 * `totalMs` in all; the event loop runs between tries (the daemon keeps answering its sessions and
 * its signals). SQLITE_BUSY after that is the storage fault it always was.
 */
async function beginWrite(c: Connection, totalMs: number): Promise<void> {
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      c.client.exec("BEGIN IMMEDIATE");
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= deadline || c.closing) throw mapSqliteError(e, c.opts.location);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
