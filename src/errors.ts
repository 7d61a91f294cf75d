// Fault classes. Expected outcomes (invalid, duplicate, unmatched) are values, not these.
// Only src/cli/main.ts turns them into exit codes (sysexits.h).

export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  SOFTWARE: 70,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;

// issue 12: the `serve` command is bundled apart (scripts/bundle.mjs) with its own copy of these
// classes; the brand lets main.ts's `instanceof IngestMailError` recognise them too.
const BRAND = Symbol.for("ingest-mail.error");

export class IngestMailError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
    (this as Record<symbol, unknown>)[BRAND] = true;
  }

  static [Symbol.hasInstance](x: unknown): boolean {
    // Subclasses keep the plain prototype check (NotFoundError is not any IngestMailError).
    if (this !== IngestMailError) return Function.prototype[Symbol.hasInstance].call(this, x);
    return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Bad command line. */
export class UsageError extends IngestMailError {
  constructor(message: string) {
    super(message, EX.USAGE);
  }
}

/** Bad or unreadable configuration. */
export class ConfigError extends IngestMailError {
  constructor(message: string) {
    super(message, EX.CONFIG);
  }
}

/** A record named on the command line does not exist. */
export class NotFoundError extends IngestMailError {
  constructor(message: string) {
    super(message, EX.NOINPUT);
  }
}

/** The database file is not one this program may use: empty, foreign, or from a newer version.
 * Refused rather than re-initialised (issue 9.4); on the MTA path it is "could not store" (75). */
export class DatabaseRefusedError extends IngestMailError {
  constructor(message: string) {
    super(message, EX.CONFIG);
  }
}

/** The mail could not be stored; the MTA keeps it and retries. */
export class TempFailError extends IngestMailError {
  constructor(message: string) {
    super(message, EX.TEMPFAIL);
  }
}

/**
 * A fault of the database (issue 11.3): each engine in store/ maps its driver's transient faults
 * (SQLite busy, locked, I/O, full; PostgreSQL serialization failure, deadlock, lost connection, too
 * many connections, server shutting down) to this one type, so nothing outside store/ knows an
 * engine's error codes. On the MTA path it is "could not store" (75): the MTA retries.
 */
const STORAGE = Symbol.for("ingest-mail.storage-fault");

export class StorageFault extends IngestMailError {
  // The PostgreSQL engine is a bundle of its own (postgres.cjs) with its own copy of this class.
  static [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[STORAGE] === true;
  }

  constructor(
    message: string,
    /** The driver's own code, for the log line. */
    readonly code: string,
    /** The transaction lost a race (PostgreSQL serialization failure or deadlock): run it again. */
    readonly retry = false,
  ) {
    super(message, EX.TEMPFAIL);
    (this as Record<symbol, unknown>)[STORAGE] = true;
  }
}

const LATE = Symbol.for("ingest-mail.late-unit-failure");

/**
 * A statement of a unit that had already ended failed (TxOptions.unconfirmed: import's batch on
 * PostgreSQL goes on to the next mail without waiting to learn that the last one's statements
 * succeeded). The transaction cannot be kept; the caller runs it again with each unit confirmed,
 * where the failure fails its own unit alone. `cause` is the statement's own error.
 */
export class LateUnitFailure extends IngestMailError {
  static [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[LATE] === true;
  }

  constructor(readonly cause: unknown) {
    super(`a statement of a unit that had ended failed: ${(cause as Error)?.message ?? String(cause)}`, EX.TEMPFAIL);
    (this as Record<symbol, unknown>)[LATE] = true;
  }
}

// EFBIG: a file-size limit (RLIMIT_FSIZE, quota) is the disk refusing, not the message being bad.
const fsCodes = new Set(["ENOSPC", "EROFS", "EACCES", "EPERM", "EIO", "ENOENT", "EDQUOT", "EMFILE", "ENFILE", "ENOTDIR", "EFBIG", "EISDIR"]);

/** True for faults of the storage (database or disk) rather than of our logic. */
export function isStorageFault(e: unknown): boolean {
  if (e instanceof StorageFault) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && fsCodes.has(code);
}
