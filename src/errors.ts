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

export class IngestMailError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
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

const storageCodes = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOLFS|CORRUPT|NOTADB)/;
// EFBIG: a file-size limit (RLIMIT_FSIZE, quota) is the disk refusing, not the message being bad.
const fsCodes = new Set(["ENOSPC", "EROFS", "EACCES", "EPERM", "EIO", "ENOENT", "EDQUOT", "EMFILE", "ENFILE", "ENOTDIR", "EFBIG", "EISDIR"]);

/** True for faults of the storage (database or disk) rather than of our logic. */
export function isStorageFault(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && (storageCodes.test(code) || fsCodes.has(code));
}
