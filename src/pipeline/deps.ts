// Side effects enter the pipeline through this one object, made at the edge (the CLI or a test),
// so the decision code can be called with a fixed clock and fixed ids.
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config.js";
import type { Db, Store } from "../store/store.js";
import { isDatabaseUrl } from "../store/url.js";
import { safe } from "../terminal-safe.js";

export interface Paths {
  /** The database: a SQLite file path (absolute), or a PostgreSQL URL as given. */
  db: string;
  attachmentsDir: string;
  spoolDir: string;
}

/** An outgoing message, already rendered; the transport only delivers it. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  inReplyTo?: string | null;
  references?: string[];
  replyTo?: string;
  headers?: Record<string, string>;
  /** The Date header; from deps.now so tests can fix it (a Date, or its ISO text once stored for a retry). */
  date?: Date | string;
  /** The envelope sender (a bounce address); default: the From address. */
  envelopeFrom?: string;
  /** issue 13: the DSN envelope id (RFC 3461 ENVID), sent where the relay supports DSN. */
  envelopeId?: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

export interface Deps {
  /**
   * What the pipeline queries: the store, or inside `db.write(async (tx) => …)` the transaction
   * (pass `{ ...deps, db: tx }` down so that everything in it runs on the transaction).
   */
  db: Db;
  /** The open store itself: its life (close) and engine housekeeping. Never queried in a transaction. */
  store: Store;
  config: Config;
  paths: Paths;
  now: () => Date;
  newGuid: () => string;
  /** One line to the configured log file (no-op when logging is off). */
  log: (line: string) => void;
  /** Lazily created so that mail without outbound work never loads nodemailer. */
  mailer: () => Promise<Mailer>;
  hostname: string;
}

/**
 * Where things are. Beside a SQLite file by default; for a PostgreSQL URL (issue 11) the local
 * folders default to `dataDir` (each host has its own spool; the bytes themselves go to the database).
 */
export function resolvePaths(dbTarget: string, config: Config, dataDir?: string): Paths {
  const url = isDatabaseUrl(dbTarget);
  const db = url ? dbTarget : resolve(dbTarget);
  const dir = url ? resolve(dataDir ?? "/var/lib/ingest-mail") : dirname(db);
  return {
    db,
    attachmentsDir: resolve(config.attachmentsDir ?? join(dir, "attachments")),
    spoolDir: resolve(config.spoolDir ?? join(dir, "spool")),
  };
}

export function fileLogger(file: string | null, now: () => Date): (line: string) => void {
  if (!file) return () => {};
  return (line) => {
    try {
      mkdirSync(dirname(file), { recursive: true });
      // One line, and nothing from a mail (an address, a subject) drives the terminal it is read on:
      // controls, NEL (a line break to some viewers) and bidi overrides as escapes (issue 10).
      appendFileSync(file, `${now().toISOString()} ingest-mail[${process.pid}]: ${safe(line.replace(/\s*\n\s*/g, " "))}\n`);
    } catch {
      // Logging must never turn a staged mail into a failure.
    }
  };
}

export const systemClock = () => new Date();
export const systemGuid = () => randomUUID();
