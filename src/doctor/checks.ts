// `ingest-mail doctor` (issue 14): the decisions, pure. Each takes facts gathered by probe.ts and
// returns one row of the report: pass, warn or fail, what was seen, and how to fix it.
import { modesOf } from "../fsafe.js";
import { kernelPath } from "../fsafe.js";
import { sharedFolder } from "./places.js";

export type Status = "pass" | "warn" | "fail";

export interface CheckResult {
  /** Stable name for --json (e.g. "database", "folder:attachments"). */
  id: string;
  status: Status;
  detail: string;
  /** What to do about a warn or fail; null on pass. */
  fix: string | null;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** What lstat/stat/access said about a path, from the delivery user's point of view. */
export interface PathFacts {
  path: string;
  exists: boolean;
  isSymlink: boolean;
  isDir: boolean;
  uid: number;
  mode: number;
  /** Writable (and, for a folder, searchable) by the user running the checks. */
  writable: boolean;
  /** For a missing path: whether its nearest existing parent lets the user create it. */
  parentWritable: boolean;
}

const pass = (id: string, detail: string): CheckResult => ({ id, status: "pass", detail, fix: null });
const warn = (id: string, detail: string, fix: string): CheckResult => ({ id, status: "warn", detail, fix });
const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: "fail", detail, fix });
const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`;

/**
 * The mode bits a file and a folder must not have, from the configured file mode (issue 10's
 * `fileMode`, e.g. "0640" to share with an admin group; folders get the matching x bits). Default
 * and anything unreadable: private, 0600 / 0700.
 */
export function forbiddenBits(fileMode: unknown): { file: number; dir: number } {
  const modes = modesOf(typeof fileMode === "string" && /^0?[0-7]{3}$/.test(fileMode) ? fileMode : "0600");
  return { file: 0o077 & ~modes.file, dir: 0o077 & ~modes.dir };
}

/** Nothing failed: the exit status of doctor. */
export const healthy = (checks: readonly CheckResult[]): boolean => !checks.some((c) => c.status === "fail");

/** What each folder is for: the setting that moves it, and the folder of its own a fix proposes. */
const FOLDERS: Record<string, { holdsOthers: boolean; setting: string; ownPlace: string }> = {
  "folder:database": { holdsOthers: true, setting: "INGEST_MAIL_DB (or --db, database)", ownPlace: "/var/lib/ingest-mail" },
  "folder:log": { holdsOthers: true, setting: "logFile", ownPlace: "/var/log/ingest-mail" },
  "folder:attachments": { holdsOthers: false, setting: "attachmentsDir", ownPlace: "/var/lib/ingest-mail/attachments" },
  "folder:spool": { holdsOthers: false, setting: "spoolDir", ownPlace: "/var/lib/ingest-mail/spool" },
  "folder:outbox": { holdsOthers: false, setting: "outbound.dir", ownPlace: "/var/lib/ingest-mail/outbox" },
};
const folderUse = (id: string) => FOLDERS[id] ?? { holdsOthers: false, setting: "the configuration", ownPlace: "/var/lib/ingest-mail" };

/** The fix for a shared folder: a folder of our own, the shared one left as it is. */
function ownFolderFix(id: string, user: Account): string {
  const { setting, ownPlace } = folderUse(id);
  const make = `install -d -m 0700 -o ${user.name} ${ownPlace}`;
  if (id === "folder:database") return `${make}, and keep the database there (INGEST_MAIL_DB=${ownPlace}/ingest-mail.db; move an existing one with its -wal and -shm)`;
  if (id === "folder:log") return `${make}, and set logFile to ${ownPlace}/ingest-mail.log`;
  return `${make}, and set ${setting} to it`;
}

/**
 * What makes an existing path writable again for the user: chown only when the owner differs,
 * chmod only when the owner's own bits lack write (and search, for a folder). Root ignores both:
 * for it (or when neither applies) it is the mount or the file's attributes.
 */
function writableFix(f: PathFacts, user: Account, mode: number, recursive: boolean): string {
  const steps: string[] = [];
  const want = f.isDir ? 0o300 : 0o200;
  if (user.uid !== 0 && f.uid !== user.uid) steps.push(`chown${recursive ? " -R" : ""} ${user.name} ${f.path}`);
  if (user.uid !== 0 && (f.mode & want) !== want) steps.push(`chmod ${octal(mode).slice(1)} ${f.path}`);
  return steps.length ? steps.join(" && ") : `${f.path} is read-only whatever its owner and mode: check the mount (findmnt -T ${f.path}) and its attributes (lsattr -d ${f.path})`;
}

/**
 * A folder we write to (database folder, attachments, spool, outbox, log). One made for ingest-mail
 * must be present, a real folder, writable, owned by the delivery user and private (0700: it holds
 * customer mail); a missing one is created on first use, so that is a warning while its parent lets
 * the user create it. A shared folder (places.ts: a system folder, /tmp, someone else's) is never
 * chmod'ed or chown'ed by a fix: the log's is not a problem at all (file:log checks the file), any
 * other needs a folder of its own.
 */
export function folderCheck(id: string, f: PathFacts, user: Account, forbidden = 0o077): CheckResult {
  const create = `install -d -m 0700 -o ${user.name} ${f.path}`;
  const dirMode = 0o777 & ~forbidden & 0o777;
  const shared = sharedFolder(f, user, folderUse(id).holdsOthers);
  // The log's folder never matters by itself: file:log says whether the file can be written.
  if (shared && id === "folder:log") return pass(id, `${f.path} (${shared}: left as it is; file:log checks the log file itself)`);
  if (kernelPath(f.path)) return fail(id, `${f.path} is on ${shared}: nothing can be stored there`, ownFolderFix(id, user));
  if (!f.exists) {
    return f.parentWritable
      ? warn(id, `${f.path} does not exist yet (created on first use)`, create)
      : fail(id, `${f.path} does not exist and ${user.name} cannot create it`, create);
  }
  if (!f.isDir) return fail(id, `${f.path} is not a folder`, `move it away, then ${create}`);
  if (shared) {
    const what = id === "folder:database" ? "the database and its -wal and -shm files belong" : `${folderUse(id).setting} belongs`;
    const why = `${shared}, left as it is: ${what} in a folder of ingest-mail's own`;
    return f.writable ? warn(id, `${f.path} is a shared folder (${why})`, ownFolderFix(id, user)) : fail(id, `${f.path} is not writable by ${user.name} and is a shared folder (${why})`, ownFolderFix(id, user));
  }
  if (!f.writable) return fail(id, `${f.path} is not writable by ${user.name}`, writableFix(f, user, dirMode, true));
  if (f.isSymlink) return warn(id, `${f.path} is a symbolic link`, `replace it with a real folder: ${create}`);
  if (user.uid !== 0 && f.uid !== user.uid) return warn(id, `${f.path} is owned by uid ${f.uid}, not ${user.name}`, `chown -R ${user.name} ${f.path}`);
  if (f.mode & forbidden) return warn(id, `${f.path} has mode ${octal(f.mode)}: other users can read customer mail`, `chmod ${octal(dirMode).slice(1)} ${f.path}`);
  return pass(id, `${f.path} (${octal(f.mode)}, ${user.name})`);
}

/** A file we write (database, -wal, -shm, log): writable, owned, private (0600). Missing is fine. */
export function fileCheck(id: string, f: PathFacts, user: Account, forbidden = 0o077): CheckResult {
  const fileMode = 0o666 & ~forbidden;
  if (!f.exists) return pass(id, `${f.path} does not exist yet`);
  if (f.isDir) return fail(id, `${f.path} is a folder`, `move it away`);
  if (!f.writable) return fail(id, `${f.path} is not writable by ${user.name}`, writableFix(f, user, fileMode, false));
  if (user.uid !== 0 && f.uid !== user.uid) return warn(id, `${f.path} is owned by uid ${f.uid}, not ${user.name}`, `chown ${user.name} ${f.path}`);
  if (f.mode & forbidden) return warn(id, `${f.path} has mode ${octal(f.mode)}: other users can read it`, `chmod ${octal(fileMode).slice(1)} ${f.path}`);
  return pass(id, `${f.path} (${octal(f.mode)})`);
}

/**
 * The log file. In a folder of ingest-mail's own, a missing file is made on first use (folder:log
 * checks the folder). In a shared folder (/var/log) only the file's own access counts: a missing one
 * the user cannot create there is made for it, with its owner and mode, by the fix; the folder
 * is left as it is (world-readable /var/log is no problem for a file of mode 0600).
 */
export function logFileCheck(f: PathFacts, folder: PathFacts, user: Account, forbidden = 0o077): CheckResult {
  const id = "file:log";
  const kernel = kernelPath(f.path);
  if (kernel) return fail(id, `${f.path} is on the kernel's ${kernel}: no log can be written there`, ownFolderFix("folder:log", user));
  if (f.exists) return fileCheck(id, f, user, forbidden);
  const shared = folder.exists ? sharedFolder(folder, user, true) : null;
  if (!shared) return pass(id, `${f.path} does not exist yet`);
  if (folder.isDir && folder.writable) return pass(id, `${f.path} does not exist yet (${user.name} may create it in ${folder.path})`);
  return fail(id, `${f.path} does not exist and ${user.name} cannot create it in ${folder.path} (${shared})`, `install -o ${user.name} -m ${octal(0o666 & ~forbidden).slice(1)} /dev/null ${f.path}`);
}

/**
 * The configuration: the file found (and by which rule) loads and its keys agree with each other. A
 * failed load leaves the other checks on the built-in defaults, which the row says.
 */
export function configCheck(c: { file: string | null; label: string; error: string | null; problem: { key: string; message: string } | null }): CheckResult {
  const from = c.file ? `${c.file} (${c.label})` : c.label;
  const fix = `ingest-mail config check ${c.file ?? "FILE"}`;
  if (c.error) return fail("config", `${c.error} (the other checks use the built-in defaults)`, fix);
  if (c.problem) return fail("config", `${from}: "${c.problem.key}" ${c.problem.message}`, fix);
  if (!c.file) return warn("config", from, "write /etc/ingest-mail/config.json (see examples/config.json), or set INGEST_MAIL_CONFIG");
  return pass("config", from);
}

/** The configuration file: readable by the delivery user; private when it holds a secret. */
export function configFileCheck(f: PathFacts, holdsSecrets: boolean): CheckResult {
  const id = "config-file";
  if (holdsSecrets && f.mode & 0o007) return warn(id, `${f.path} holds a secret and has mode ${octal(f.mode)}`, `chmod 640 ${f.path} (owner root, group of the delivery user)`);
  return pass(id, `${f.path} (${octal(f.mode)})`);
}

export interface DatabaseFacts {
  /** The file, or the URL of a PostgreSQL database (without its password). */
  path: string;
  /** A database on a server (PostgreSQL, issue 11): no file here to own or to create. */
  server?: boolean;
  exists: boolean;
  /** Open failed (not a database, unreadable): the message. */
  error: string | null;
  /** The schema version (the number of applied migrations: describe().schemaVersion), when open. */
  userVersion: number | null;
  /** Bytes in the file (0: an empty file, which is not a database). */
  size?: number;
  /** Tables in it; a database holding tables but not ours is someone else's. */
  tables?: string[];
}

/** `folder`: the database file's folder (null for a database on a server). */
export function databaseCheck(d: DatabaseFacts, folder: PathFacts | null, user: Account): CheckResult {
  if (d.server && d.error) return fail("database", `${d.path}: ${d.error}`, "check the URL (--db, INGEST_MAIL_DB or database in the configuration, PG* variables), that the server runs and that the role may connect");
  if (!d.exists && folder) {
    return (folder.exists ? folder.isDir && folder.writable : folder.parentWritable)
      ? warn("database", `${d.path} does not exist yet (created by the first delivery)`, `create it as ${user.name}: sudo -u ${user.name} ingest-mail init --db ${d.path}`)
      : fail("database", `${d.path} does not exist and ${user.name} cannot create it`, folder.exists && sharedFolder(folder, user, true) ? ownFolderFix("folder:database", user) : `install -d -m 0700 -o ${user.name} ${folder.path}`);
  }
  if (d.error) return fail("database", `${d.path}: ${d.error}`, `make it readable by ${user.name} (chown ${user.name}), or point --db / INGEST_MAIL_DB at the right file`);
  if (d.size === 0) return fail("database", `${d.path} is an empty file, not a database`, "restore it from a backup, or remove it if nothing was ever stored");
  if (d.tables && d.tables.length > 0 && !d.tables.includes("staged_mails")) {
    return fail("database", `${d.path} is not an ingest-mail database (no staged_mails table)`, "point --db / INGEST_MAIL_DB at the right file");
  }
  return pass("database", `${d.path} opens`);
}

export function schemaCheck(have: number | null, want: number): CheckResult {
  if (have === null) return warn("schema", "not checked (the database did not open)", "fix the database check first");
  if (have === want) return pass("schema", `schema version ${have} (current)`);
  if (have > want) return fail("schema", `schema version ${have} is newer than this program's ${want}`, "upgrade ingest-mail to the version that wrote this database");
  return warn("schema", `schema version ${have}, this program's is ${want}: migrated on the next open`, "run any command as the delivery user (ingest-mail list) to migrate it now");
}

export interface SendmailFacts {
  path: string;
  exists: boolean;
  executable: boolean;
}

export interface GreetingFacts {
  target: string;
  /** The reply code of the greeting, or null when none came. */
  code: number | null;
  /** The greeting line (control characters removed) or why there was none. */
  text: string;
  ms: number;
}

/** A failure of a transport this configuration never uses (no confirmations, no admin address) is a warning. */
const unusedOr = (used: boolean, r: CheckResult): CheckResult => (used || r.status !== "fail" ? r : { ...r, status: "warn", detail: `${r.detail} (not used by this configuration)` });

export function sendmailCheck(s: SendmailFacts, used: boolean): CheckResult {
  const fix = `install an MTA that provides ${s.path} (Postfix does), or set outbound.path / outbound.transport`;
  if (!s.exists) return unusedOr(used, fail("outbound", `sendmail: ${s.path} does not exist`, fix));
  if (!s.executable) return unusedOr(used, fail("outbound", `sendmail: ${s.path} is not executable by the delivery user`, fix));
  return pass("outbound", `sendmail: ${s.path} is executable`);
}

export function smtpCheck(g: GreetingFacts, used: boolean, timeoutMs: number): CheckResult {
  const fix = "check outbound.url (host, port, smtp:// or smtps://) and that the relay accepts connections from this host";
  if (g.code === 220) return pass("outbound", `smtp: ${g.target} greeted in ${g.ms} ms: ${g.text}`);
  if (g.code === null) return unusedOr(used, fail("outbound", `smtp: ${g.target}: ${g.text || `no greeting within ${timeoutMs} ms`}`, fix));
  return unusedOr(used, fail("outbound", `smtp: ${g.target} answered ${g.code}: ${g.text}`, fix));
}

/**
 * The secret that signs address ids (issue 10): the configuration's addressSecret, else one kept in
 * the database. A database without a table for it predates issue 10.
 */
export function secretCheck(configured: boolean, table: { name: string; rows: number } | null): CheckResult {
  if (configured) return pass("signing-secret", "addressSecret is set in the configuration");
  if (!table) return warn("signing-secret", "no addressSecret and this database keeps no signing secret: address ids are not signed", 'set "addressSecret" in the configuration (a long random string)');
  if (table.rows > 0) return pass("signing-secret", `kept in the database (${table.name})`);
  return warn("signing-secret", `no secret in ${table.name} yet (created when the first address is signed)`, "nothing to do (or set addressSecret to choose it)");
}

export function stuckCheck(count: number, minutes: number): CheckResult {
  if (count === 0) return pass("stuck", `no staged mail waiting longer than ${minutes} min`);
  return warn("stuck", `${count} staged mail(s) still new or in process after ${minutes} min`, "ingest-mail recover (or wait for a long-running mode to finish them)");
}

export function errorsCheck(count: number): CheckResult {
  if (count === 0) return pass("errors", "no staged mail in error");
  return warn("errors", `${count} staged mail(s) in error`, "ingest-mail list --status error; fix the cause, then ingest-mail resubmit ID");
}

/** At most this many ids are named in one command line; past it the rest are found with `outbox list`. */
export const NAMED_IDS = 20;

/**
 * The command that sends failed mail past the retry limit (`gaveUp` rows, `ids` the first of them):
 * `outbox retry` without ids leaves those alone, named ones go whatever their attempts.
 */
export function retryNamedCommand(gaveUp: number, ids: readonly number[]): string {
  if (gaveUp <= ids.length) return `ingest-mail outbox retry ${ids.join(" ")}`;
  return `ingest-mail outbox retry ID… (the first: ${ids.join(" ")}; ingest-mail outbox list shows the rest)`;
}

/** Failed outgoing mail; `gaveUp` of them are past the retry limit and wait for `outbox retry ID` (`ids`: the first of those). */
export function outboxCheck(failed: number, gaveUp = 0, ids: readonly number[] = []): CheckResult {
  if (failed === 0) return pass("outbox", "no failed outgoing mail");
  if (!gaveUp) return warn("outbox", `${failed} outgoing mail(s) failed`, "ingest-mail outbox list; fix the transport (see outbound), then ingest-mail outbox retry");
  const named = retryNamedCommand(gaveUp, ids);
  const others = failed > gaveUp ? `ingest-mail outbox retry (the ${failed - gaveUp} with attempts left) and ` : "";
  return warn("outbox", `${failed} outgoing mail(s) failed (${gaveUp} past the retry limit: only outbox retry ID sends them)`, `fix the transport (see outbound), then ${others}${named}`);
}

const MiB = 1024 * 1024;
const size = (n: number) => (n >= 10 * 1024 * MiB ? `${Math.round(n / 1024 / MiB)} GiB` : `${Math.round(n / MiB)} MiB`);

/**
 * Free space where mail is written. Fail below what one largest message needs (maxMessageBytes, at
 * least 100 MiB) or 2 %; warn below 1 GiB or 10 %. A full disk turns every delivery into exit 75.
 */
export function diskCheck(path: string, free: number, total: number, maxMessageBytes: number): CheckResult {
  const id = "disk";
  const pct = total > 0 ? (free / total) * 100 : 0;
  const detail = `${path}: ${size(free)} free of ${size(total)} (${pct.toFixed(1)} %)`;
  const fix = "free space (ingest-mail purge), or move the data to a larger file system";
  if (free < Math.max(100 * MiB, maxMessageBytes) || pct < 2) return fail(id, detail, fix);
  if (free < 1024 * MiB || pct < 10) return warn(id, detail, fix);
  return pass(id, detail);
}

/** Control characters out, length capped: text from a server or an error is printed on a terminal. */
export const printable = (s: string, max = 120): string => {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};
