// `ingest-mail doctor`: which folders a fix may change. Its fix lines are copied and pasted as root,
// so a chmod or chown may only ever name a folder made for ingest-mail. A shared folder (/var/log,
// /tmp, someone else's folder) is left as it is: the fix then names a file or a folder of our own.
import { basename, resolve } from "node:path";
import { kernelPath } from "../fsafe.js";
import type { Account, PathFacts } from "./checks.js";

/**
 * The system's own folders (the FHS layout and the kernel's): never made for one program, whoever
 * owns them and whatever their mode. `chmod 700 /var/log` or `chown -R nobody /var/log` breaks the
 * machine.
 */
export const SYSTEM_FOLDERS: ReadonlySet<string> = new Set([
  "/", "/bin", "/boot", "/dev", "/dev/shm", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/run/user", "/sbin", "/srv", "/sys", "/tmp",
  "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/share", "/usr/sbin", "/usr/share",
  "/var", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log", "/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp",
]);

/** The name every documented place gives ingest-mail's folder (/var/lib/ingest-mail, ~/.local/share/ingest-mail). */
const OUR_NAME = "ingest-mail";

/**
 * Why a folder is shared (not made for ingest-mail), or null when it is ours. The rule, first match:
 *
 * | folder | shared? |
 * |---|---|
 * | under /proc or /sys | yes: the kernel's |
 * | one of SYSTEM_FOLDERS | yes: a system folder |
 * | sticky (mode +t, like /tmp) | yes: every user writes there |
 * | not there yet | no: ingest-mail creates it (or the fix does) |
 * | named `ingest-mail` | no: made for it, whoever owns it now |
 * | `holdsOthers` and not owned by the delivery user | yes: owned by someone else |
 * | otherwise | no |
 *
 * `holdsOthers`: a folder that holds our files among others' (the database's folder, the log's).
 * The attachments, spool and outbox folders are ours by what the configuration means: ingest-mail
 * names every file in them and `recover` removes those no record refers to.
 */
export function sharedFolder(f: PathFacts, user: Account, holdsOthers: boolean): string | null {
  const p = resolve(f.path);
  const kernel = kernelPath(p);
  if (kernel) return `the kernel's ${kernel}`;
  if (SYSTEM_FOLDERS.has(p)) return "a system folder";
  if (!f.exists) return null;
  if (f.mode & 0o1000) return "a folder every user may write to";
  if (basename(p) === OUR_NAME) return null;
  if (holdsOthers && f.uid !== user.uid) return `owned by uid ${f.uid}, not ${user.name}`;
  return null;
}
