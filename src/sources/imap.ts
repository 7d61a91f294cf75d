// IMAP mailbox through imapflow. Waiting mail is what is unseen in the mailbox, or, with --move-to,
// everything in it (what is done has been moved out). Fetching uses BODY.PEEK[] (imapflow's
// `source`), which leaves \Seen alone: the flag or the move comes only after staging.
import { ImapFlow, type MailboxLockObject } from "imapflow";
import { MAX_PER_CYCLE, MailboxError, type Mailbox, type MailboxMessage } from "./mailbox.js";

export interface ImapMailboxOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  tls?: boolean;
  mailbox: string;
  moveTo?: string | null;
  timeoutMs?: number;
  /** Allow LOGIN in clear when the server offers no STARTTLS (--insecure-plaintext). */
  insecurePlaintext?: boolean;
  tlsOptions?: Record<string, unknown>;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "NoConnection", "ClosedAfterConnectTLS", "ClosedAfterConnectText", "CONNECT_TIMEOUT", "GREETING_TIMEOUT", "UPGRADE_TIMEOUT"]);

export class ImapMailbox implements Mailbox {
  readonly protocol = "imap" as const;
  readonly where: string;
  private client: ImapFlow | null = null;
  private lock: MailboxLockObject | null = null;

  constructor(private readonly opts: ImapMailboxOptions) {
    this.where = `${opts.user}@${opts.host}:${opts.port}/${opts.mailbox}`;
  }

  async open(): Promise<void> {
    const o = this.opts;
    const timeout = o.timeoutMs ?? 30_000;
    const client = new ImapFlow({
      host: o.host,
      port: o.port,
      secure: !!o.tls,
      // Issue 10: without implicit TLS, STARTTLS is required (imapflow would otherwise log in in
      // clear when the server does not offer it), unless plaintext is explicitly allowed.
      ...(o.tls || o.insecurePlaintext ? {} : { doSTARTTLS: true }),
      ...(o.tlsOptions ? { tls: o.tlsOptions } : {}),
      auth: { user: o.user, pass: o.password },
      logger: false,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: 5 * timeout,
    });
    // A dropped connection is reported by the command that was waiting; this only keeps the
    // 'error' event from crashing the process.
    client.on("error", () => {});
    this.client = client;
    try {
      await client.connect();
    } catch (e) {
      this.abort();
      throw classify(e, `${o.host}:${o.port}`, o.user);
    }
    try {
      await this.guard(async () => {
        if (o.moveTo && !(await client.list()).some((m) => m.path === o.moveTo)) await client.mailboxCreate(o.moveTo);
        this.lock = await client.getMailboxLock(o.mailbox);
      });
    } catch (e) {
      // Logged in, but the mailbox cannot be opened (missing, in use): the session ends here.
      this.abort();
      throw e;
    }
  }

  pending(): Promise<MailboxMessage[]> {
    return this.guard(async () => {
      const uids = (await this.live().search(this.opts.moveTo ? { all: true } : { seen: false }, { uid: true })) || [];
      // As for POP3 (pop3.ts), a cycle takes the oldest MAX_PER_CYCLE; the rest wait for the next.
      return [...uids]
        .sort((a, b) => a - b)
        .slice(0, MAX_PER_CYCLE)
        .map((uid) => ({ id: uid, label: `uid ${uid}` }));
    });
  }

  fetch(m: MailboxMessage): Promise<Buffer | null> {
    return this.guard(async () => {
      const msg = await this.live().fetchOne(String(m.id), { source: true }, { uid: true });
      return msg && msg.source ? msg.source : null;
    });
  }

  done(m: MailboxMessage): Promise<void> {
    return this.guard(async () => {
      const c = this.live();
      if (this.opts.moveTo) await c.messageMove(String(m.id), this.opts.moveTo, { uid: true });
      else await c.messageFlagsAdd(String(m.id), ["\\Seen"], { uid: true });
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    if (!c) return;
    this.lock?.release();
    this.lock = null;
    this.client = null;
    await c.logout().catch(() => c.close());
  }

  abort(): void {
    this.lock = null;
    this.client?.close();
    this.client = null;
  }

  private live(): ImapFlow {
    if (!this.client || !this.client.usable) throw new MailboxError(`connection to ${this.opts.host}:${this.opts.port} was lost`, "unreachable");
    return this.client;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classify(e, `${this.opts.host}:${this.opts.port}`, this.opts.user, this.opts.mailbox);
    }
  }
}

function classify(e: unknown, where: string, user: string, mailbox?: string): MailboxError {
  if (e instanceof MailboxError) return e;
  const err = e as { code?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string; message?: string; mailboxMissing?: boolean; tlsFailed?: boolean };
  const text = err.responseText || err.message || String(e);
  if (err.tlsFailed) return new MailboxError(`${where} offers no STARTTLS: the password would go in clear (use --tls, or --insecure-plaintext to allow it)`, "refused");
  // RFC 5530: a mailbox in use or a server unavailable for now is retried next cycle, not a refusal.
  if (["INUSE", "UNAVAILABLE"].includes((err.serverResponseCode ?? "").toUpperCase()) || /^\[(INUSE|UNAVAILABLE)\]/i.test(text)) return new MailboxError(`${where}: ${text}`, "unreachable");
  if (err.authenticationFailed) return new MailboxError(`login refused for ${user} at ${where}: ${text}`, "refused");
  if (err.serverResponseCode === "NONEXISTENT" || err.mailboxMissing) return new MailboxError(`no mailbox "${mailbox}" for ${user} at ${where}: ${text}`, "refused");
  if ((err.code && UNREACHABLE.has(err.code)) || /connection (not available|closed)|timeout|unexpected close/i.test(text)) {
    return new MailboxError(`cannot reach ${where}: ${text}`, "unreachable");
  }
  return new MailboxError(`${where}: ${text}`, "protocol");
}
