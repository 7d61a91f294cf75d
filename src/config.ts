// Configuration: a JSON file (--config, INGEST_MAIL_CONFIG) over built-in defaults. Unknown keys and
// wrong types are refused with the key's name so a deployment typo cannot silently change behaviour.
import { PURGEABLE } from "./domain/statuses.js";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { describeJsonError, locateConfig } from "./config-lookup.js";
import { ConfigError } from "./errors.js";
import { kernelPath } from "./fsafe.js";
import { isDatabaseUrl } from "./store/url.js";

import { ISSUE_KINDS, type IssueKind } from "./domain/issues.js";

export type { IssueKind };

export interface Route {
  address: string;
  kind: IssueKind;
  queue?: string;
  sendResponse: boolean;
}

export interface AssignmentRule {
  when: { supportLevel?: string; address?: string; subjectMatches?: string };
  assignee: string;
  queue?: string;
}

export interface Config {
  /** Support addresses (service@domain); the first one named in the headers is the recipient. */
  supportAddresses: string[];
  referencePrefix: string;
  referencesFrom: "participants" | "anyone";
  adminAddress: string | null;
  routes: Route[];
  defaultRoute: { kind: IssueKind; queue?: string; sendResponse: boolean };
  assignment: AssignmentRule[];
  outbound: {
    transport: "sendmail" | "smtp" | "file";
    path?: string;
    url?: string;
    dir?: string;
    from: string;
    host?: string;
    /** Issue 9.8: one send may take this long (sendmail is killed, SMTP gives up); default 20. */
    timeoutSeconds: number;
  };
  limits: {
    confirmationsPerAddressPerDay: number;
    maxMessageBytes: number;
    /** Issue 9.3: body text kept on the record and its actions (the raw message keeps everything). */
    maxTextBytes: number;
    /** Issue 9.3: larger HTML is stripped of its tags in one linear pass instead of converted. */
    htmlToTextBytes: number;
    /** Issue 9.1: parsing past this many seconds ends in `error` (the raw bytes stay). */
    parseSeconds: number;
    /** Issue 9.9: admin error notices per hour; past it they wait for one digest. */
    adminNoticesPerHour: number;
    /** Issue 9.8: failed outbound mail is retried by the long-running modes up to this many attempts. */
    outboxMaxAttempts: number;
    /** Issue 10: confirmations per recipient domain / in all, in the last hour. */
    confirmationsPerDomainPerHour: number;
    confirmationsPerHour: number;
  };
  flood: { maxNewIssues: number; windowMinutes: number } | null;
  /** Secret for HMAC-signed address ids (local+UID-ISSUE-SIG@); null = the database's own (issue 10). */
  addressSecret: string | null;
  /** domain.md §1.4: mail without a subject is staged as invalid (seed default: on). */
  requireSubject: boolean;
  /**
   * Issue 11.2: the database, when --db and INGEST_MAIL_DB leave it open: a SQLite file path, or a
   * postgres:// / postgresql:// URL (libpq's PG* environment variables fill in what it leaves out).
   */
  database: string | null;
  attachmentsDir: string | null;
  spoolDir: string | null;
  logFile: string | null;
  busyTimeoutMs: number;
  /** Raw mail up to this size is kept in the database; larger mail is spooled to a file. */
  inlineRawMaxBytes: number;
  recoverAfterMinutes: number;
  /** Issue 14: what a scheduled purge removes (`purge` with no age, and the long-running modes). */
  retention: { olderThanDays: number; statuses?: string[]; keepText?: boolean } | null;
  /** Issue 15: the web console. Off loopback it serves only after a login with this password. */
  web: { passwordHash: string | null };
  // ---- issue 10: trust (domain.md §9) ----
  /** The authserv-id our own MTA writes into Authentication-Results (RFC 8601); null: none trusted. */
  trustedAuthservId: string | null;
  /** Headers whose value "Yes..." marks mail the MTA's spam filter flagged (staged as `spam`). */
  spamHeaders: string[];
  /** Mode of the files we create (octal string); folders get the matching x bits. "0640" shares with a group. */
  fileMode: string;
}

export const defaultConfig: Config = {
  supportAddresses: [],
  referencePrefix: "CS-",
  referencesFrom: "participants",
  adminAddress: null,
  routes: [],
  defaultRoute: { kind: "ticket", sendResponse: false },
  assignment: [],
  outbound: { transport: "sendmail", path: "/usr/sbin/sendmail", from: "support@localhost", timeoutSeconds: 20 },
  limits: {
    confirmationsPerAddressPerDay: 5,
    maxMessageBytes: 100 * 1024 * 1024,
    maxTextBytes: 1024 * 1024,
    htmlToTextBytes: 256 * 1024,
    parseSeconds: 10,
    adminNoticesPerHour: 10,
    outboxMaxAttempts: 5,
    confirmationsPerDomainPerHour: 30,
    confirmationsPerHour: 300,
  },
  flood: null,
  addressSecret: null,
  requireSubject: true,
  database: null,
  attachmentsDir: null,
  spoolDir: null,
  logFile: null,
  busyTimeoutMs: 30000,
  inlineRawMaxBytes: 1024 * 1024,
  recoverAfterMinutes: 10,
  retention: null,
  web: { passwordHash: null },
  trustedAuthservId: null,
  spamHeaders: ["X-Spam-Flag", "X-Spam-Status"],
  fileMode: "0600",
};

type Check = (v: unknown, key: string) => void;

const fail = (key: string, want: string): never => {
  throw new ConfigError(`config: ${key ? `"${key}"` : "the file"} must be ${want}`);
};
const str: Check = (v, k) => void (typeof v === "string" || fail(k, "a string"));
const strOrNull: Check = (v, k) => void (v === null || typeof v === "string" || fail(k, "a string or null"));
// A folder or file of ours under the kernel's file systems: Node's recursive mkdir there never ends.
const onDisk: Check = (v, k) => void (v === null || (typeof v === "string" && !(isAbsolute(v) && kernelPath(v))) || fail(k, typeof v === "string" ? "a path on disk, not under /proc or /sys" : "a string or null"));
const bool: Check = (v, k) => void (typeof v === "boolean" || fail(k, "true or false"));
const posInt: Check = (v, k) => void ((Number.isInteger(v) && (v as number) >= 0) || fail(k, "a whole number ≥ 0"));
const oneOf =
  (...allowed: string[]): Check =>
  (v, k) =>
    void (allowed.includes(v as string) || fail(k, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`));
const regex: Check = (v, k) => {
  str(v, k);
  try {
    new RegExp(v as string, "i");
  } catch {
    fail(k, "a valid regular expression");
  }
};

function object(shape: Record<string, Check>, required: string[] = []): Check {
  return (v, k) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(k, "an object");
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      // Own keys of the shape only: "__proto__", "toString" or "constructor" in the file are unknown
      // keys, not Object.prototype's (which crashed the check, or passed it).
      const check = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (!check) throw new ConfigError(`config: unknown key "${k ? `${k}.` : ""}${key}"`);
      check(o[key], k ? `${k}.${key}` : key);
    }
    for (const r of required) if (!Object.hasOwn(o, r)) throw new ConfigError(`config: "${k ? `${k}.` : ""}${r}" is required`);
  };
}
const array =
  (item: Check): Check =>
  (v, k) => {
    if (!Array.isArray(v)) fail(k, "an array");
    (v as unknown[]).forEach((x, i) => item(x, `${k}[${i}]`));
  };

const kind = oneOf(...ISSUE_KINDS);
const routeShape = { address: str, kind, queue: str, sendResponse: bool };

const configShape: Record<string, Check> = {
  supportAddresses: array(str),
  referencePrefix: str,
  referencesFrom: oneOf("participants", "anyone"),
  adminAddress: strOrNull,
  routes: array(object(routeShape, ["address", "kind"])),
  defaultRoute: object({ kind, queue: str, sendResponse: bool }),
  assignment: array(
    object(
      {
        when: object({ supportLevel: str, address: str, subjectMatches: regex }),
        assignee: str,
        queue: str,
      },
      ["when", "assignee"],
    ),
  ),
  outbound: object({
    transport: oneOf("sendmail", "smtp", "file"),
    path: str,
    url: str,
    dir: (v, k) => (str(v, k), onDisk(v, k)),
    from: str,
    host: str,
    timeoutSeconds: posInt,
  }),
  limits: object({
    confirmationsPerAddressPerDay: posInt,
    maxMessageBytes: posInt,
    maxTextBytes: posInt,
    htmlToTextBytes: posInt,
    parseSeconds: posInt,
    adminNoticesPerHour: posInt,
    outboxMaxAttempts: posInt,
    confirmationsPerDomainPerHour: posInt,
    confirmationsPerHour: posInt,
  }),
  flood: (v, k) => (v === null ? undefined : object({ maxNewIssues: posInt, windowMinutes: posInt }, ["maxNewIssues", "windowMinutes"])(v, k)),
  addressSecret: strOrNull,
  requireSubject: bool,
  database: strOrNull,
  attachmentsDir: onDisk,
  spoolDir: onDisk,
  logFile: onDisk,
  busyTimeoutMs: posInt,
  inlineRawMaxBytes: posInt,
  recoverAfterMinutes: posInt,
  // Issue 14. Statuses: never new / in_process / workflow (mail still to be processed).
  retention: (v, k) =>
    v === null ? undefined : object({ olderThanDays: (d, dk) => void ((Number.isInteger(d) && (d as number) >= 1) || fail(dk, "a whole number ≥ 1")), statuses: array(oneOf(...PURGEABLE)), keepText: bool }, ["olderThanDays"])(v, k),
  web: object({ passwordHash: (v, k) => void (v === null || (typeof v === "string" && /^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/.test(v)) || fail(k, "null or a hash made by `ingest-mail web passwd`")) }),
  trustedAuthservId: strOrNull,
  spamHeaders: array(str),
  // Owner read/write at least; never anything for "other" (customer mail is private, issue 10).
  fileMode: (v, k) => void ((typeof v === "string" && /^0?[0-7]{3}$/.test(v) && (parseInt(v, 8) & 0o600) === 0o600 && (parseInt(v, 8) & 0o007) === 0) || fail(k, 'an octal mode such as "0600" or "0640" (owner read/write, nothing for others)')),
};

/** Validates a parsed JSON value and merges it over the defaults. */
export function parseConfig(value: unknown): Config {
  object(configShape)(value, "");
  const v = value as Partial<Config>;
  const routes = (v.routes ?? []).map((r) => ({ ...r, sendResponse: r.sendResponse ?? false }));
  return {
    ...defaultConfig,
    ...v,
    routes,
    defaultRoute: { ...defaultConfig.defaultRoute, ...v.defaultRoute },
    outbound: { ...defaultConfig.outbound, ...v.outbound },
    limits: { ...defaultConfig.limits, ...v.limits },
    web: { ...defaultConfig.web, ...v.web },
  };
}

/** --config, else INGEST_MAIL_CONFIG, else /etc/ingest-mail/config.json, else ~/.config/ingest-mail/config.json, else defaults (config-lookup.ts). */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): Config {
  const { file } = locateConfig(path, env);
  if (!file) return defaultConfig;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`config: cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // Issue 9.4: never the parser's message, which quotes the text around the error (a secret, once),
    // and an MTA may quote our stderr in a bounce: only where it is (config-lookup.ts).
    throw new ConfigError(`config: ${file} is not valid JSON (${describeJsonError(text, e)})`);
  }
  return relativeTo(dirname(resolve(file)), parseConfig(json));
}

/**
 * Issue 10: relative paths in a config file resolve against the file's folder, not the current
 * directory (an MTA runs us from its queue directory, cron from /).
 */
export function relativeTo(dir: string, c: Config): Config {
  const at = (p: string | null | undefined) => (p && !isAbsolute(p) ? resolve(dir, p) : p);
  return {
    ...c,
    database: c.database && isDatabaseUrl(c.database) ? c.database : (at(c.database) ?? null),
    attachmentsDir: at(c.attachmentsDir) ?? null,
    spoolDir: at(c.spoolDir) ?? null,
    logFile: at(c.logFile) ?? null,
    outbound: { ...c.outbound, ...(c.outbound.dir ? { dir: at(c.outbound.dir)! } : {}), ...(c.outbound.path && c.outbound.path.includes("/") ? { path: at(c.outbound.path)! } : {}) },
  };
}
