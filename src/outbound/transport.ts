// Outbound transports: sendmail (default), smtp (URL) and file (an .eml per message, for tests and
// dry runs). Built on nodemailer, which is imported only when a mail is actually sent: the MTA's
// ingest path for mail that needs no answer never loads it.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Transporter } from "nodemailer";
import type { Config } from "../config.js";
import type { Mailer, OutgoingMail, Paths } from "../pipeline/deps.js";

/** Where the file transport writes: outbound.dir, else `outbox` next to the database. */
export function outboxDir(config: Config, paths: Paths): string {
  return resolve(config.outbound.dir ?? join(dirname(paths.db), "outbox"));
}

// An MTA pipe must not hang on a dead relay: fail within seconds and record the failure
// (the URL's query, e.g. ?connectionTimeout=60000, still overrides these).
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export async function createMailer(config: Config, paths: Paths): Promise<Mailer> {
  const o = config.outbound;
  let transporter: Transporter | null = null;
  const get = async (): Promise<Transporter> => {
    if (transporter) return transporter;
    const nodemailer = (await import("nodemailer")).default;
    if (o.transport === "smtp") {
      if (!o.url) throw new Error('outbound.transport is "smtp" but outbound.url is not set');
      transporter = nodemailer.createTransport({ url: o.url, ...SMTP_TIMEOUTS });
    } else if (o.transport === "file") {
      transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
    } else {
      transporter = nodemailer.createTransport({ sendmail: true, path: o.path ?? "/usr/sbin/sendmail", newline: "unix" });
    }
    return transporter;
  };
  return {
    async send(mail: OutgoingMail) {
      const t = await get();
      const info = await t.sendMail(toNodemailer(mail));
      if (o.transport === "file") writeEml(outboxDir(config, paths), mail.messageId, (info as unknown as { message: Buffer }).message, mail.envelopeFrom);
    },
  };
}

function toNodemailer(m: OutgoingMail) {
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageId: m.messageId,
    ...(m.date ? { date: m.date } : {}),
    ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
    ...(m.references?.length ? { references: m.references } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    headers: m.headers ?? {},
    // issue 13: bounces go to our VERP address; RET=HDRS asks for the original's headers only.
    ...(m.envelopeFrom ? { envelope: { from: m.envelopeFrom, to: m.to }, dsn: { id: m.envelopeId, return: "headers" } } : {}),
    // Our mail carries no attachments; never let a path or URL in the data be fetched.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

// Written under a temporary name and renamed, so a reader of the folder never sees half a message.
// The name comes from our own Message-ID (GUIDs), never from the incoming mail.
// The envelope sender is recorded as the Return-Path a delivering MTA would add (issue 13).
function writeEml(dir: string, messageId: string, message: Buffer, envelopeFrom?: string): void {
  const raw = envelopeFrom ? Buffer.concat([Buffer.from(`Return-Path: <${envelopeFrom}>\n`), message]) : message;
  mkdirSync(dir, { recursive: true });
  const name = messageId.replace(/^<|>$/g, "").replace(/[^A-Za-z0-9._@-]/g, "_");
  const file = join(dir, `${name}.eml`);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, raw, { mode: 0o600 });
  renameSync(tmp, file);
}
