// Outbound transports: sendmail (default), smtp (URL) and file (an .eml per message, for tests and
// dry runs). nodemailer renders every message (and speaks SMTP); it is imported only when a mail is
// actually sent, so the MTA's ingest path for mail that needs no answer never loads it.
// Issue 9.8: no send may hold up intake: sendmail is killed after outbound.timeoutSeconds and SMTP
// gives up on a silent relay within seconds; the failure is recorded and retried later.
import { spawn } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Transporter } from "nodemailer";
import type { Config } from "../config.js";
import type { Mailer, OutgoingMail, Paths } from "../pipeline/deps.js";

/** Where the file transport writes: outbound.dir, else `outbox` next to the database. */
export function outboxDir(config: Config, paths: Paths): string {
  return resolve(config.outbound.dir ?? join(dirname(paths.db), "outbox"));
}

// An MTA pipe must not hang on a dead relay: a relay that accepts the connection and never greets
// costs seconds, not minutes (the URL's query, e.g. ?greetingTimeout=20000, still overrides these).
const SMTP_TIMEOUTS = { connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 };

export async function createMailer(config: Config, paths: Paths): Promise<Mailer> {
  const o = config.outbound;
  const timeoutMs = o.timeoutSeconds * 1000;
  const nodemailer = (await import("nodemailer")).default;
  // Every transport but SMTP renders the message here and delivers the bytes itself.
  const render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  let smtp: Transporter | null = null;
  return {
    async send(mail: OutgoingMail) {
      if (o.transport === "smtp") {
        if (!o.url) throw new Error('outbound.transport is "smtp" but outbound.url is not set');
        smtp ??= nodemailer.createTransport({ url: o.url, ...SMTP_TIMEOUTS });
        await withDeadline(smtp.sendMail(toNodemailer(mail)), timeoutMs, () => smtp?.close());
        return;
      }
      const info = (await render.sendMail(toNodemailer(mail))) as unknown as { message: Buffer };
      // issue 13: the file records the envelope sender as the Return-Path a delivering MTA would add.
      if (o.transport === "file") writeEml(outboxDir(config, paths), mail.messageId, mail.envelopeFrom ? Buffer.concat([Buffer.from(`Return-Path: <${mail.envelopeFrom}>\n`), info.message]) : info.message);
      else await sendmail(o.path ?? "/usr/sbin/sendmail", envelopeFrom(mail), mail.to, info.message, timeoutMs);
    },
  };
}

/** The envelope sender: the mail's own (a bounce address), else the From address. */
function envelopeFrom(mail: OutgoingMail): string {
  if (mail.envelopeFrom) return mail.envelopeFrom;
  const m = /<([^<>]*)>\s*$/.exec(mail.from);
  return (m ? m[1] : mail.from).trim();
}

/** sendmail(1) as nodemailer calls it (-i -f FROM -- TO), killed when it outlasts the deadline. */
function sendmail(path: string, from: string, to: string, message: Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // Addresses come from our own validated data; a leading "-" could still read as an option.
    if (from.startsWith("-") || to.startsWith("-")) return reject(new Error(`refusing an address that starts with "-": ${from} / ${to}`));
    // Detached: the child leads a process group of its own, so the deadline kills whatever it
    // started too (a script's `sleep`, a stuck postdrop); killing only the child left those orphaned
    // under init, holding its stderr pipe open.
    const child = spawn(path, ["-i", "-f", from, "--", to], { stdio: ["pipe", "ignore", "pipe"], detached: true });
    let stderr = "";
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`${path} did not finish within ${timeoutMs / 1000} s (outbound.timeoutSeconds); killed`));
    }, timeoutMs);
    child.stderr.on("data", (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-500)));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`${path} exited with ${code ?? signal}${stderr.trim() ? `: ${stderr.trim().split("\n")[0]}` : ""}`));
    });
    child.stdin.on("error", () => {}); // a sendmail that exits early closes the pipe; its exit code says why
    child.stdin.end(message);
  });
}

/** SIGKILL to a process group (its leader's pid); gone already is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: the whole group has exited meanwhile.
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error(`the SMTP relay did not take the mail within ${ms / 1000} s (outbound.timeoutSeconds)`));
      }, ms);
    }),
  ]);
}

function toNodemailer(m: OutgoingMail) {
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageId: m.messageId,
    ...(m.envelopeFrom ? { envelope: { from: m.envelopeFrom, to: m.to } } : {}),
    // issue 13: where the relay speaks DSN, ask for the original's headers only and name it by ENVID.
    ...(m.envelopeId ? { dsn: { id: m.envelopeId, return: "headers" } } : {}),
    ...(m.date ? { date: new Date(m.date) } : {}),
    ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
    ...(m.references?.length ? { references: m.references } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    headers: m.headers ?? {},
    // Our mail carries no attachments; never let a path or URL in the data be fetched.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

// Written under a temporary name and renamed, so a reader of the folder never sees half a message.
// The name comes from our own Message-ID (GUIDs), never from the incoming mail.
function writeEml(dir: string, messageId: string, raw: Buffer): void {
  mkdirSync(dir, { recursive: true, mode: 0o770 }); // issue 10: the umask (fileMode) decides
  const name = messageId.replace(/^<|>$/g, "").replace(/[^A-Za-z0-9._@-]/g, "_");
  const file = join(dir, `${name}.eml`);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, raw, { mode: 0o660 }); // issue 10: the umask (fileMode) decides; never "other"
  renameSync(tmp, file);
}
