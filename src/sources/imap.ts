// IMAP mailbox through imapflow. Waiting mail is what is unseen in the mailbox, or, with --move-to,
// everything in it (what is done has been moved out). Fetching uses BODY.PEEK[] (imapflow's
// `source`), which leaves \Seen alone: the flag or the move comes only after staging.
import { ImapFlow, type MailboxLockObject } from "imapflow";
import { MAX_PER_CYCLE, MailboxError, Oversize, type Mailbox, type MailboxMessage } from "./mailbox.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./pop3-client.js";

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
  /** limits.maxMessageBytes: a larger message is left on the server (fetch() gives Oversize). */
  maxMessageBytes?: number;
  tlsOptions?: Record<string, unknown>;
}

// imapflow's literal cap is never set below this, so that a small maxMessageBytes does not refuse
// the server's other literals (a mailbox name, an ENVELOPE field).
const LITERAL_FLOOR = 1024 * 1024;

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "NoConnection", "ClosedAfterConnectTLS", "ClosedAfterConnectText", "CONNECT_TIMEOUT", "GREETING_TIMEOUT", "UPGRADE_TIMEOUT"]);

export class ImapMailbox implements Mailbox {
  readonly protocol = "imap" as const;
  readonly where: string;
  private client: ImapFlow | null = null;
  private lock: MailboxLockObject | null = null;
  private readonly max: number;
  /** Why imapflow dropped the connection, when it said. */
  private dropped: Error | null = null;

  constructor(private readonly opts: ImapMailboxOptions) {
    this.where = `${opts.user}@${opts.host}:${opts.port}/${opts.mailbox}`;
    this.max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
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
      // Bounded memory: imapflow holds a whole literal (default cap 1 GB) and a whole response (2 GB).
      maxLiteralSize: Math.max(this.max, LITERAL_FLOOR),
      maxResponseSize: Math.max(this.max, LITERAL_FLOOR) + LITERAL_FLOOR,
    });
    // A dropped connection is reported by the command that was waiting ("Connection not
    // available"); the cause is kept so that guard() can say it (a literal over the cap).
    client.on("error", (e: Error) => (this.dropped = e));
    this.client = client;
    try {
      await client.connect();
    } catch (e) {
      this.abort();
      throw classify(e, `${o.host}:${o.port}`, o.user);
    }
    try {
      await this.guard(async () => {
        // Without MOVE (RFC 6851) imapflow moves by COPY, STORE \Deleted and EXPUNGE: it deleted
        // the original even when COPY had failed (NO [OVERQUOTA]), and without UIDPLUS (RFC 4315
        // UID EXPUNGE) its plain EXPUNGE removes every \Deleted message of the mailbox, staged or
        // not. Such a server is refused for --move-to (78) rather than risk the mail.
        if (o.moveTo && !client.capabilities.has("MOVE")) {
          throw new MailboxError(`${o.host}:${o.port} does not offer MOVE (RFC 6851), which --move-to needs: moving by COPY and EXPUNGE can delete mail that was never copied or staged; poll without --move-to (processed mail is then flagged \\Seen)`, "refused");
        }
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

  // limits.maxMessageBytes: the size (RFC 3501 §6.4.5 RFC822.SIZE) is asked first, and a larger
  // message is left as it is (Oversize: not seen, not moved), never read into memory (imapflow holds
  // a whole literal, up to 1 GB). A server that then sends more than it said is cut off by
  // maxLiteralSize (open()) or, under that floor, caught here.
  fetch(m: MailboxMessage): Promise<Buffer | Oversize | null> {
    return this.guard(async () => {
      const c = this.live();
      const head = await c.fetchOne(String(m.id), { size: true }, { uid: true });
      if (!head) return null;
      this.sameUid(m, head.uid);
      if (head.size !== undefined && head.size > this.max) return new Oversize(head.size);
      const msg = await c.fetchOne(String(m.id), { source: true }, { uid: true });
      if (!msg || !msg.source) return null;
      this.sameUid(m, msg.uid);
      return msg.source.length > this.max ? new Oversize(msg.source.length) : msg.source;
    });
  }

  // imapflow's fetchOne() gives the first FETCH response, whichever message it is about. A server
  // answering UID FETCH 12 with UID 11's data got UID 12 flagged \Seen though it was never staged.
  // RFC 3501 §6.4.8: a UID FETCH response carries the UID; one that differs is a protocol fault.
  private sameUid(m: MailboxMessage, uid: number | undefined): void {
    if (uid !== m.id) throw new MailboxError(`${this.opts.host}:${this.opts.port} answered UID FETCH ${m.id} with ${uid === undefined ? "no UID" : `UID ${uid}`}: nothing marked`, "protocol");
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
      const cause = this.dropped as { code?: string; literalSize?: number } | null;
      if (cause?.code === "LiteralTooLarge") {
        // The server sent more than the size it gave (or gave none): nothing was marked.
        throw new MailboxError(`${this.opts.host}:${this.opts.port} sent a literal of ${cause.literalSize} bytes, over limits.maxMessageBytes (${this.max}): connection dropped, the message left on the server`, "protocol");
      }
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
