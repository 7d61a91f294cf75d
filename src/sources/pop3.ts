// POP3 mailbox (RFC 1939): every message on the server is waiting; a staged one is deleted (DELE),
// which the server carries out only at QUIT, so a crash before then leaves it there. Issue 10: the
// password goes only over TLS (implicit --tls, or STLS) unless plaintext is explicitly allowed.
import type { ConnectionOptions } from "node:tls";
import { MAX_PER_CYCLE, MailboxError, Oversize, type Mailbox, type MailboxMessage } from "./mailbox.js";
import { DEFAULT_MAX_MESSAGE_BYTES, Pop3Client, Pop3Error } from "./pop3-client.js";

export interface Pop3MailboxOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  tls?: boolean;
  timeoutMs?: number;
  /** Allow USER/PASS in clear when the server offers no STLS (--insecure-plaintext). */
  insecurePlaintext?: boolean;
  /** limits.maxMessageBytes: a larger message is left on the server (fetch() gives Oversize). */
  maxMessageBytes?: number;
  tlsOptions?: ConnectionOptions;
}

export class Pop3Mailbox implements Mailbox {
  readonly protocol = "pop3" as const;
  readonly where: string;
  private client: Pop3Client | null = null;
  // abort() must also end a connection still waiting for its greeting (this.client is set after).
  private readonly aborter = new AbortController();

  constructor(private readonly opts: Pop3MailboxOptions) {
    this.where = `${opts.user}@${opts.host}:${opts.port}`;
  }

  async open(): Promise<void> {
    const client = (this.client = await wrap(() => Pop3Client.connect({ ...this.opts, signal: this.aborter.signal })));
    try {
      if (!this.opts.tls && !(await wrap(() => client.stls())) && !this.opts.insecurePlaintext) {
        throw new MailboxError(`${this.opts.host}:${this.opts.port} offers no STLS: the password would go in clear (use --tls, or --insecure-plaintext to allow it)`, "refused");
      }
      await wrap(() => client.login(this.opts.user, this.opts.password));
    } catch (e) {
      // A refused or locked login ([IN-USE]) drops the connection now, not at the socket's timeout.
      this.abort();
      throw e;
    }
  }

  // The count is the server's word: `+OK 4000000000 0` built an array of four billion entries (the
  // process aborted out of memory). A cycle takes the first MAX_PER_CYCLE messages; the rest wait on
  // the server for the next cycle (after QUIT the server numbers the remaining ones from 1 again,
  // RFC 1939 §5). UIDL is not asked for: the message number is all a cycle needs, and the listing
  // is as long as the server wants it (five million lines held 615 MB).
  async pending(): Promise<MailboxMessage[]> {
    const c = this.live();
    const { count } = await wrap(() => c.stat());
    if (!Number.isSafeInteger(count) || count < 0) throw new MailboxError(`${this.where}: STAT gave no message count (RFC 1939 §5)`, "protocol");
    return Array.from({ length: Math.min(count, MAX_PER_CYCLE) }, (_, i) => ({ id: i + 1, label: String(i + 1) }));
  }

  // A message over limits.maxMessageBytes is left on the server (no DELE), its whole size reported:
  // LIST tells it before RETR (RFC 1939 §5); a server whose LIST says less than it then sends is
  // caught by RETR's cap, which reads the rest to the end without keeping it.
  fetch(m: MailboxMessage): Promise<Buffer | Oversize> {
    const c = this.live();
    const max = this.opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    return wrap(async () => {
      const listed = await c.list(m.id);
      if (listed !== null && listed > max) return new Oversize(listed);
      const r = await c.retrieve(m.id);
      return r.truncated ? new Oversize(r.size) : r.bytes;
    });
  }

  done(m: MailboxMessage): Promise<void> {
    const c = this.live();
    return wrap(() => c.dele(m.id));
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await wrap(() => c.quit());
  }

  abort(): void {
    this.aborter.abort();
    this.client?.destroy();
    this.client = null;
  }

  private live(): Pop3Client {
    if (!this.client) throw new MailboxError(`not connected to ${this.where}`, "protocol");
    return this.client;
  }
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Pop3Error) throw new MailboxError(e.message, e.kind === "auth" ? "refused" : e.kind);
    throw e;
  }
}
