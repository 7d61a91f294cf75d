// Builds the dependencies object for a command: configuration, database, paths, clock, ids.
import { hostname } from "node:os";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig, type Config } from "../config.js";
import { isDatabaseUrl, openStore } from "../store/open.js";
import { isOtherUrl } from "../store/url.js";
import type { WriteTurn } from "../store/sqlite/engine.js";
import { ConfigError, DatabaseRefusedError, NotFoundError, UsageError } from "../errors.js";
import { osUser } from "./actor.js";
import { applyFileMode, becomeDatabaseOwner, kernelPath, refuseSymlinks } from "../fsafe.js";
import { fileLogger, resolvePaths, systemClock, systemGuid, type Deps, type Mailer } from "../pipeline/deps.js";

export interface CommonOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/** $XDG_DATA_HOME/ingest-mail (~/.local/share/ingest-mail; /var/lib/ingest-mail without a home). */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const dataHome = env.XDG_DATA_HOME || (env.HOME ? join(env.HOME, ".local", "share") : "/var/lib");
  return join(dataHome, "ingest-mail");
}

/**
 * --db, else INGEST_MAIL_DB, else <data dir>/ingest-mail.db. A postgres:// or postgresql:// URL
 * there selects PostgreSQL (issue 11.2).
 */
export function defaultDbPath(env: NodeJS.ProcessEnv): string {
  if (env.INGEST_MAIL_DB) return env.INGEST_MAIL_DB;
  return join(defaultDataDir(env), "ingest-mail.db");
}

/**
 * The database a command uses: --db, else INGEST_MAIL_DB, else the configuration's `database`
 * (issue 11.2), else the default path.
 */
export function databaseTarget(opts: CommonOptions, config: Pick<Config, "database">, env: NodeJS.ProcessEnv): string {
  // An empty --db (a script's unset variable) would open "" as a file SQLite cannot name.
  if (opts.db === "") throw new UsageError("--db needs a database: a file path (SQLite) or a postgres:// URL");
  const target = opts.db ?? (env.INGEST_MAIL_DB || config.database || defaultDbPath(env));
  // A mistyped scheme would otherwise be taken as a relative SQLite path and create a new database.
  if (isOtherUrl(target)) throw new ConfigError(`the database ${target.replace(/\/\/[^@/]*@/, "//…@")} is a URL of a scheme ingest-mail does not know: use a file path (SQLite) or postgres:// / postgresql:// (PostgreSQL)`);
  return target;
}

export function loadCommonConfig(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(opts.config, env);
}

export interface DepsOptions {
  /** Issue 10: only ingest, poll, import and init may create a database; admin commands open one. */
  create?: boolean;
  /** serve: its write lock, for a SQLite database (ignored for PostgreSQL: store/open.ts). */
  writeTurn?: WriteTurn;
}

export async function makeDeps(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env, loaded?: Config, how: DepsOptions = {}): Promise<Deps> {
  const config = loaded ?? loadCommonConfig(opts, env);
  const target = databaseTarget(opts, config, env);
  const paths = resolvePaths(target, config, defaultDataDir(env));
  const url = isDatabaseUrl(target);
  // The kernel's own file systems hold no database: Node's recursive mkdir of a missing folder
  // there never ends (mkdir says ENOENT, then EEXIST for /proc, again and again), deaf to SIGTERM.
  const kernel = url ? null : kernelPath(paths.db);
  if (kernel) throw new DatabaseRefusedError(`the database ${paths.db} is under ${kernel}, the kernel's file system: give a path on disk (check --db / INGEST_MAIL_DB)`);
  // Issue 10 (domain.md §9): root becomes the database's owner, files are private whatever the
  // umask, symlinks in our places are refused, and an admin command never creates a database.
  if (!url) becomeDatabaseOwner(paths.db);
  const modes = applyFileMode(config.fileMode);
  refuseSymlinks([
    ...(url
      ? []
      : [
          { path: paths.db, what: "the database" },
          { path: `${paths.db}-wal`, what: "the database's WAL file" },
          { path: `${paths.db}-shm`, what: "the database's shared-memory file" },
        ]),
    { path: paths.attachmentsDir, what: "the attachments folder" },
    { path: paths.spoolDir, what: "the spool folder" },
    ...(url ? [] : [{ path: join(paths.db, "..", "outbox"), what: "the outbox folder" }]),
    ...(config.outbound.dir ? [{ path: config.outbound.dir, what: "the outbox folder" }] : []),
    ...(config.logFile ? [{ path: config.logFile, what: "the log file" }] : []),
  ]);
  if (!url) refuseUnusable(paths.db, how.create === true);
  const store = await openStore(paths.db, { busyTimeoutMs: config.busyTimeoutMs, fileMode: modes.file, writeTurn: how.writeTurn });
  let mailer: Promise<Mailer> | null = null;
  return {
    db: store,
    store,
    config,
    paths,
    now: systemClock,
    newGuid: systemGuid,
    log: fileLogger(config.logFile, systemClock),
    mailer: () => (mailer ??= import("../outbound/transport.js").then((m) => m.createMailer(config, paths))),
    hostname: config.outbound.host ?? hostname(),
  };
}

/**
 * Admin commands never create a database (issue 10.6): a missing one is 66, naming the path (a folder
 * given as the database is refused, 78, by every command). So is
 * one this user may not read and write (SQLite's WAL needs both, even to read): a new admin running
 * a command as the wrong user is told so, where SQLite would say only "unable to open database
 * file" (and a folder it may not enter looks like no database at all).
 */
function refuseUnusable(db: string, create: boolean): void {
  // SQLite says only "unable to open database file", which reads as a busy database (75).
  if (isFolder(db)) throw new DatabaseRefusedError(`the database ${db} is a folder, not a database file (check --db / INGEST_MAIL_DB)`);
  if (create) return;
  const file = access(db, RW);
  if (file === "missing") throw new NotFoundError(`no database at ${db} (check --db / INGEST_MAIL_DB; ingest-mail init creates one)`);
  if (file === "denied" || sidesDenied(db)) throw new NotFoundError(`cannot open the database ${db} as ${osUser()}: permission denied (run the command as the database's owner)`);
}

/**
 * The user this process runs as, when it may not open the SQLite database at `db` for writing
 * (SQLite's WAL needs it even to read); null when nothing is denied (a missing file is not).
 */
export function deniedTo(db: string): string | null {
  return access(db, RW) === "denied" || sidesDenied(db) ? osUser() : null;
}

const RW = constants.R_OK | constants.W_OK;

/** Its -wal and -shm where they exist, the folder where they do not (SQLite creates them there). */
function sidesDenied(db: string): boolean {
  return [`${db}-wal`, `${db}-shm`].some((side) => (existsSync(side) ? access(side, RW) : access(dirname(db), constants.W_OK | constants.X_OK)) === "denied");
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What access(2) says of `path`: allowed, denied to this user, or not there (any other error). */
function access(path: string, mode: number): "ok" | "denied" | "missing" {
  try {
    accessSync(path, mode);
    return "ok";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "EACCES" || code === "EPERM" ? "denied" : "missing";
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
