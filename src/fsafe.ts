// Issue 10 (domain.md §9): customer mail is private by default. Everything we create (the database
// and its -wal/-shm, spool, attachments, outbox files, the log) is 0600 and every folder 0700,
// whatever the umask; config fileMode may widen that to a group (0640 → folders 0750). A symlink
// where one of our files or folders should be is refused, never followed. When root runs a command
// on a database another user owns (the MTA's delivery user), it becomes that user first, so that
// nothing it creates is root's and later deliveries can still write (issue 10, point 7).
import { accessSync, constants, existsSync, lstatSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "./errors.js";

export interface Modes {
  file: number;
  dir: number;
}

/** fileMode "0600" → files 0600, folders 0700; "0640" → 0640 / 0750 (x wherever r is). */
export function modesOf(fileMode: string): Modes {
  const file = parseInt(fileMode, 8) & 0o666;
  return { file, dir: file | ((file & 0o444) >> 2) };
}

/**
 * Sets the process umask so that files and folders created with the default modes (0666 / 0777)
 * come out as fileMode / its folder mode, whatever umask the MTA or the shell gave us. Files created
 * with an explicit 0600 (attachments, spool, outbox) stay 0600.
 */
export function applyFileMode(fileMode: string): Modes {
  const modes = modesOf(fileMode);
  // The umask is the process's; worker threads may not set it (they inherit the main thread's).
  // Asked this way rather than through node:worker_threads, which the MTA's ingest path would
  // otherwise load on every start (issue 9, cold start).
  try {
    process.umask(0o777 & ~modes.dir);
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_WORKER_UNSUPPORTED_OPERATION") throw e;
  }
  return modes;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Refuses (exit 78) when any of our paths is a symlink: we would write customer mail through it. */
export function refuseSymlinks(paths: { path: string; what: string }[]): void {
  for (const { path, what } of paths) {
    if (lstatOrNull(path)?.isSymbolicLink()) throw new ConfigError(`refusing to use ${what} ${path}: it is a symbolic link (point it at the real path instead)`);
  }
}

/** The owner of the database, else of its folder, when neither is missing. */
function ownerOf(dbPath: string): Stats | null {
  for (const p of [dbPath, dirname(dbPath)]) {
    try {
      return statSync(p);
    } catch {
      // not there (yet)
    }
  }
  return null;
}

/**
 * root → another user: supplementary groups (all of the user's when the name is known, else its
 * primary group), then gid, then uid. The order matters: after setuid there is no way back.
 */
export function dropTo(user: { uid: number; gid: number; name?: string }): void {
  const initgroups = (process as unknown as { initgroups?: (user: string, gid: number) => void }).initgroups;
  if (user.name && initgroups) {
    try {
      initgroups.call(process, user.name, user.gid);
    } catch {
      process.setgroups?.([user.gid]);
    }
  } else process.setgroups?.([user.gid]);
  process.setgid!(user.gid);
  process.setuid!(user.uid);
}

/**
 * Root is not the delivery user: when run as root on a database (or a database folder) owned by
 * another user, become that user (groups, gid, then uid) before any file is touched. Returns the
 * uid switched to, or null when nothing changed.
 */
export function becomeDatabaseOwner(dbPath: string): number | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  const st = ownerOf(dbPath);
  if (!st || st.uid === 0) return null;
  try {
    dropTo({ uid: st.uid, gid: st.gid });
  } catch (e) {
    throw new ConfigError(`running as root on ${dbPath}, owned by uid ${st.uid}: could not switch to that user (${(e as Error).message}); run the command as that user`);
  }
  return st.uid;
}

/**
 * Where a file at `path` would be made (the folders missing on its way included): the nearest
 * existing folder above it, and whether this user may write there. init and serve --check ask it
 * before SQLite would answer only "unable to open database file".
 */
export function creatableIn(path: string): { folder: string; writable: boolean } {
  let folder = dirname(path);
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
    return { folder, writable: true };
  } catch {
    return { folder, writable: false };
  }
}

/** The kernel's file systems: no file or folder can be stored under them (and Node's recursive mkdir of a missing folder there never ends). */
const KERNEL_FOLDERS = ["/proc", "/sys"];

/** The kernel's folder `path` is under (the path itself or anything below), or null. */
export function kernelPath(path: string): string | null {
  const p = resolve(path);
  return KERNEL_FOLDERS.find((k) => p === k || p.startsWith(`${k}/`)) ?? null;
}
