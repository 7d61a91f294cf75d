// `ingest-mail doctor` (issue 14): every check in order, as the user this process runs as (the
// command switches to the delivery user first). Exported for other modes that report health
// (`serve --check`). Gathers facts (probe.ts), decides (checks.ts), returns the rows.
import { dirname, resolve } from "node:path";
import { configProblems, holdsSecrets, maskSecrets, smtpUrl } from "../config-check.js";
import { locateConfig, SOURCE_LABEL, type ConfigLocation } from "../config-lookup.js";
import { defaultConfig, loadConfig, type Config } from "../config.js";
import { outboxDir } from "../outbound/transport.js";
import { resolvePaths } from "../pipeline/deps.js";
import { isDatabaseUrl } from "../store/open.js";
import { countFailedOutbound, countKeptAddressSecrets, countStagedInError, countStuckStaged, failedPastLimitIds } from "../store/queries/doctor-queries.js";
import type { Db } from "../store/store.js";
import {
  configCheck,
  configFileCheck,
  databaseCheck,
  diskCheck,
  errorsCheck,
  fileCheck,
  folderCheck,
  forbiddenBits,
  healthy,
  logFileCheck,
  NAMED_IDS,
  outboxCheck,
  printable,
  schemaCheck,
  secretCheck,
  sendmailCheck,
  smtpCheck,
  stuckCheck,
  type Account,
  type CheckResult,
} from "./checks.js";
import { diskFacts, pathFacts, probeDatabase, sendmailFacts, smtpGreeting } from "./probe.js";

export interface DoctorInput {
  /** The database: a SQLite file path, or a PostgreSQL URL. */
  dbPath: string;
  /** Where local folders go by default for a PostgreSQL database (cli/context.ts: defaultDataDir). */
  dataDir?: string;
  /** --config, when given. */
  configPath?: string;
  env: NodeJS.ProcessEnv;
  /** Who the checks run as (already switched to). */
  user: Account;
  /** How long to wait for an SMTP greeting. */
  timeoutMs: number;
  now: Date;
}

export interface DoctorReport {
  ok: boolean;
  dbPath: string;
  config: { source: ConfigLocation["source"]; file: string | null };
  checks: CheckResult[];
}

/** A count, or `none` when the query fails (a column an older schema lacks): the check then passes. */
async function counted<T>(db: Db, count: (db: Db) => Promise<T>, none: T): Promise<T> {
  try {
    return await count(db);
  } catch {
    return none;
  }
}

/** Does this configuration ever send mail (confirmations or admin notices)? */
const sendsMail = (c: Config) => c.defaultRoute.sendResponse || c.routes.some((r) => r.sendResponse) || !!c.adminAddress;

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const { user } = input;

  // Configuration: read as the delivery user would read it.
  const where = locateConfig(input.configPath, input.env);
  let config: Config = defaultConfig;
  let error: string | null = null;
  try {
    if (where.file) config = loadConfig(where.file, input.env);
  } catch (e) {
    error = printable((e as Error).message, 300);
  }
  checks.push(configCheck({ file: where.file, label: SOURCE_LABEL[where.source], error, problem: error ? null : (configProblems(config)[0] ?? null) }));
  if (where.file && !error) checks.push(configFileCheck(pathFacts(resolve(where.file)), holdsSecrets(config)));

  // Database: present, readable, writable, migrated; its folder and files private.
  const paths = resolvePaths(input.dbPath, config, input.dataDir);
  // A PostgreSQL database has no file or folder here (issue 11): only what the server says.
  const url = isDatabaseUrl(paths.db);
  // `fileMode` (issue 10) may share files with a group.
  const bits = forbiddenBits(config.fileMode);
  const folder = (id: string, path: string) => folderCheck(id, pathFacts(path), user, bits.dir);
  const file = (id: string, path: string) => fileCheck(id, pathFacts(path), user, bits.file);
  const dbFolder = url ? null : pathFacts(dirname(paths.db));
  const db = await probeDatabase(paths.db, config.busyTimeoutMs);
  try {
    checks.push(databaseCheck(db, dbFolder, user));
    if (dbFolder) {
      checks.push(folderCheck("folder:database", dbFolder, user, bits.dir));
      for (const [id, path] of [["file:database", paths.db], ["file:database-wal", `${paths.db}-wal`], ["file:database-shm", `${paths.db}-shm`]] as const) {
        if (pathFacts(path).exists) checks.push(file(id, path));
      }
    }
    checks.push(schemaCheck(db.error || !db.exists ? null : db.userVersion, db.programSchemaVersion ?? 0));

    // Folders the pipeline writes to.
    checks.push(folder("folder:attachments", paths.attachmentsDir));
    checks.push(folder("folder:spool", paths.spoolDir));
    if (config.outbound.transport === "file") checks.push(folder("folder:outbox", outboxDir(config, paths)));
    if (config.logFile) {
      const logFolder = pathFacts(dirname(resolve(config.logFile)));
      checks.push(folderCheck("folder:log", logFolder, user, bits.dir));
      checks.push(logFileCheck(pathFacts(resolve(config.logFile)), logFolder, user, bits.file));
    }

    // Outbound transport answers.
    const used = sendsMail(config);
    const o = config.outbound;
    if (o.transport === "sendmail") checks.push(sendmailCheck(sendmailFacts(o.path ?? "/usr/sbin/sendmail"), used));
    else if (o.transport === "smtp") {
      const u = o.url ? smtpUrl(o.url) : null;
      if (u) checks.push(smtpCheck(await smtpGreeting(u.host, u.port, u.secure, input.timeoutMs), used, input.timeoutMs));
      else checks.push({ id: "outbound", status: used ? "fail" : "warn", detail: "smtp: outbound.url is missing or not an smtp:// URL", fix: 'set "outbound.url", e.g. smtp://relay.example.test:587' });
    } else checks.push({ id: "outbound", status: "pass", detail: "file: outgoing mail is written as .eml files (see folder:outbox)", fix: null });

    // What the data says (nothing when the database did not open: it has no tables to ask).
    const store = db.store;
    const has = (table: string) => store !== null && db.has(table);
    // Issue 10 keeps it in settings (key address_secret), created on first use.
    const kept = has("settings") ? { name: "settings.address_secret", rows: await counted(store!, countKeptAddressSecrets, 0) } : null;
    checks.push(secretCheck(!!config.addressSecret, kept));
    if (has("staged_mails")) {
      const cutoff = new Date(input.now.getTime() - config.recoverAfterMinutes * 60_000).toISOString();
      checks.push(stuckCheck(await counted(store!, (s) => countStuckStaged(s, cutoff), 0), config.recoverAfterMinutes));
      checks.push(errorsCheck(await counted(store!, countStagedInError, 0)));
    }
    if (has("outbound_mails")) {
      const { failed, gaveUp } = await counted(store!, (s) => countFailedOutbound(s, config.limits.outboxMaxAttempts), { failed: 0, gaveUp: 0 });
      const ids = gaveUp ? await counted(store!, (s) => failedPastLimitIds(s, config.limits.outboxMaxAttempts, NAMED_IDS), []) : [];
      checks.push(outboxCheck(failed, gaveUp, ids));
    }
  } finally {
    await db.close();
  }

  // Disk space on every file system we write to (once each).
  const seen = new Set<number>();
  for (const p of [...(url ? [] : [dirname(paths.db)]), paths.attachmentsDir, paths.spoolDir]) {
    const d = diskFacts(p);
    if (!d || seen.has(d.dev)) continue;
    seen.add(d.dev);
    checks.push(diskCheck(d.path, d.free, d.total, config.limits.maxMessageBytes));
  }

  return { ok: healthy(checks), dbPath: url ? maskSecrets(paths.db) : paths.db, config: { source: where.source, file: where.file }, checks };
}
