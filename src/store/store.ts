// The store: every database access of the product goes through this interface (issue 11). Two
// engines implement it, store/sqlite/ (better-sqlite3, the embedded default) and store/postgres/
// (pg, for several mail hosts on one database). Named queries (store/queries/) are written once,
// in SQL both engines run, against `Db`; nothing outside store/ imports a driver, writes SQL that
// only one engine runs, or knows an engine's error codes.

import type { Readable } from "node:stream";

export type Engine = "sqlite" | "postgres";

/**
 * Where a row would hold a file path (staged_mails.raw_path, attachments.stored_path), a reference
 * to bytes kept in the database instead: `blob:<sha256>` (issue 11.8). A path never starts so.
 */
export const BLOB_REF = "blob:";
export const isBlobRef = (path: string | null | undefined): path is string => path?.startsWith(BLOB_REF) === true;

/**
 * Raw mail and attachment bytes kept in the database, so that every host that uses it reaches them
 * (issue 11.8: several mail hosts, an admin console on another machine). Content-addressed (the
 * same bytes are kept once) and streamed in chunks both ways, so a 50 MB attachment is never held
 * in memory. The methods work on the Db they came from: `tx.blobs` within a transaction.
 */
export interface Blobs {
  /**
   * Keeps the bytes `open()` yields under their sha256 (checked) in this transaction, and returns
   * the ref for the row. Bytes kept already are not read again; they stay until the transaction
   * ends even if a purge would delete them meanwhile (it waits for that).
   */
  put(sha256: string, open: () => Readable): Promise<string>;
  /** The bytes of a ref, chunk by chunk (the stream fails when they are missing). */
  open(ref: string): Readable;
  /** Their size in bytes, or null when the database holds no such bytes. */
  size(ref: string): Promise<number | null>;
  /** Deletes the blobs of these refs (all blobs when not given) that no row refers to any more. */
  deleteUnreferenced(refs?: readonly string[]): Promise<{ removed: number; bytes: number }>;
}

export interface TxOptions {
  /**
   * The commit must be on disk before write() returns. Staging asks for it (the MTA is told
   * "delivered" on the strength of it, issue 9.7); everything after it can be redone from the staged
   * record. SQLite: synchronous=FULL for this commit (NORMAL otherwise); PostgreSQL: a normal commit
   * (others run with synchronous_commit = off, the same trade as SQLite's NORMAL).
   */
  durable?: boolean;
  /** Deleted rows are overwritten, not just unlinked (purge, issue 14: SQLite secure_delete). */
  secureDelete?: boolean;
  /**
   * Called on a transaction, fn runs in it directly instead of in a savepoint: for work whose
   * failure fails the caller's own unit anyway (staging inside import's per-mail savepoint), where
   * the savepoint would only cost two statements (two round trips on PostgreSQL).
   */
  noSavepoint?: boolean;
  /**
   * Many units in one transaction (import's batch): ids may be drawn ahead of the rows that take
   * them (Db.nextId), so that an insert nobody needs an answer from but its id is not waited for.
   * An id drawn ahead and never used is a gap: at most one per table when the process ends.
   */
  batch?: boolean;
  /**
   * Called on a transaction (a unit of a batch): the unit ends without waiting to learn that its
   * deferred statements succeeded, and so do the units nested in it (PostgreSQL: the RELEASE goes
   * with the next statement waited for, one round trip a mail fewer). A failure found after the
   * unit ended fails the transaction with LateUnitFailure, for a caller that then runs it again
   * with each unit confirmed (import). SQLite: nothing to wait for; no effect.
   */
  unconfirmed?: boolean;
}

/**
 * What a named query runs against: the store itself (each statement on its own) or a transaction.
 * SQL uses `?` placeholders and quoted camelCase aliases (`AS "receivedAt"`); the engine adapts the
 * placeholders to its driver.
 */
export interface Db {
  readonly engine: Engine;
  /**
   * Where raw mail and attachment bytes go: null for local files beside the database (SQLite, one
   * host: the spool and attachments folders, unchanged), the database itself for PostgreSQL.
   */
  readonly blobs: Blobs | null;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** A statement without rows; `changes` is the number of rows it touched. */
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /**
   * A write whose result nobody reads (runWrites). In a transaction on PostgreSQL it is held and
   * sent with the next statement that is waited for, one round trip for both; if it fails, that
   * statement, the end of its savepoint or the commit fails with its error, and the unit it belongs
   * to is undone as if it had failed here. SQLite, and PostgreSQL outside a transaction: at once.
   */
  defer(sql: string, params?: readonly unknown[], opts?: DeferOptions): Promise<void>;
  /**
   * Runs fn in a write transaction, committed when fn resolves and rolled back when it throws.
   * Called on a transaction it is a savepoint (import's batch: one mail's work undone alone).
   * Inside fn, query through `tx`, never through the store: on PostgreSQL the store is a pool.
   */
  write<T>(fn: (tx: Db) => Promise<T>, opts?: TxOptions): Promise<T>;
  /** Runs fn over one consistent snapshot (several reads that must agree). */
  read<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Serialises, until this transaction ends, the writers that take the same key: a reservation
   * that reads before it writes (the confirmation rate limit) is race-free on both engines. The
   * lock is held before the transaction's next statement runs (what it reads after lockKey() is
   * read under the lock); nothing outside the database is guarded by it.
   * SQLite: nothing to do (one writer at a time); PostgreSQL: a transaction-level advisory lock,
   * sent with the next statement (Db.defer).
   */
  lockKey(key: string): Promise<void>;
  /**
   * The id for the next row of a table, when ids are drawn ahead (TxOptions.batch on PostgreSQL):
   * the row's INSERT can then be deferred (sql.ts insertAhead). The next id is drawn with whatever
   * statement is waited for next, so taking one costs no round trip of its own after the first.
   * Absent where ids are not drawn ahead: SQLite (one writer, no round trips), or one-mail
   * transactions (a gap in the ids, hence in issue references, for every delivery).
   */
  nextId?(table: string): Promise<number>;
  /**
   * Statements sent now, ahead of the unit they serve (import on PostgreSQL: the next mail's reads,
   * answered while this mail's workflow runs; docs/store.md). What `build` asks of the Db it is
   * given is sent at once, before anything asked after `early` returns; its answers come when
   * awaited. A failure of any of them fails the transaction with LateUnitFailure, for the caller
   * to run it again without reading early. Absent where ids are not drawn ahead (see nextId).
   */
  early?<T>(build: (db: Db) => T): T;
}

export interface DeferOptions {
  /**
   * The write rests on an answer read early (Db.early) that a concurrent writer may have made
   * stale: if it fails, the transaction fails with LateUnitFailure and the caller runs it again,
   * without reading early, rather than the unit failing alone (PostgreSQL; SQLite runs it at once).
   */
  replayOnFailure?: boolean;
}

/** An open store: a Db with a life. */
export interface Store extends Db {
  /** The database as a person reads it: a path, or a URL without its password. */
  readonly location: string;
  /** Engine facts for `doctor` and `--json` outputs (size, version, journal mode, …). */
  describe(): Promise<Record<string, string | number | boolean | null>>;
  /**
   * Gives the space of deleted rows back and leaves no trace of them in the files (after a purge):
   * SQLite rebuilds the file (VACUUM) and empties the WAL; PostgreSQL vacuums the tables.
   * `checkpoint`: "done", or "busy" when a reader kept the WAL from being emptied.
   */
  compact(): Promise<{ checkpoint: "done" | "busy" | "skipped" }>;
  /** A consistency check of the database itself ("ok" or what is wrong). */
  integrityCheck(): Promise<string>;
  /**
   * keepWal (SQLite, a process about to exit): leave the connection for the exit to drop, so the
   * write-ahead log is neither checkpointed nor deleted by every one-mail process; the next
   * process reuses it, and SQLite's automatic checkpoint moves it into the database now and then.
   */
  close(opts?: { keepWal?: boolean }): Promise<void>;
  /**
   * SQLite: how many pages of write-ahead log make a commit on this connection move the log into the
   * database (PRAGMA wal_autocheckpoint; 0 never). The LMTP daemon leaves it to its processing
   * thread (serve/processor.ts). PostgreSQL has no such setting (the method is absent).
   */
  checkpointEvery?(pages: number): void;
}
