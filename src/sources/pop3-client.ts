// A small POP3 client (RFC 1939) on node:net / node:tls: STLS (RFC 2595), USER/PASS, STAT, UIDL,
// RETR, DELE, QUIT.
// Written here (the subset needed is small) so that the raw bytes reach staging exactly as the
// server sent them, as Buffers never decoded to strings (8-bit mail, content hash for duplicates).
// Deletions take effect only at QUIT (RFC 1939 §6, UPDATE state): a connection that drops before
// QUIT leaves every message on the server.
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";

export type Pop3ErrorKind = "unreachable" | "auth" | "protocol";

export class Pop3Error extends Error {
  constructor(
    message: string,
    readonly kind: Pop3ErrorKind,
    readonly code?: string,
  ) {
    super(message);
    this.name = "Pop3Error";
  }
}

export interface Pop3Options {
  host: string;
  port: number;
  /** Implicit TLS (pop3s, port 995). */
  tls?: boolean;
  tlsOptions?: ConnectionOptions;
  /** No answer for this long → the connection is dropped (default 30 s). */
  timeoutMs?: number;
  /**
   * The whole of a RETR (or UIDL) answer must arrive within this long (default 10 minutes), however
   * steadily the server drips it; each other answer, the greeting included, within timeoutMs.
   */
  messageDeadlineMs?: number;
  /** Aborting it drops the connection, even before the greeting has come (SIGTERM). */
  signal?: AbortSignal;
  /** Issue 10: RETR keeps at most this many bytes (+1, so the caller sees it was more); the rest is read and discarded. */
  maxMessageBytes?: number;
}

/** A retrieved message: its bytes, cut after maxMessageBytes + 1 when it was larger. */
export interface Retrieved {
  bytes: Buffer;
  truncated: boolean;
  /** The message's whole size as sent (dot-unstuffed). */
  size: number;
}

/** limits.maxMessageBytes's default (src/config.ts), when the caller gives none. */
export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

// RFC 3206: these response codes say "try again later", not "your credentials are wrong".
const TRANSIENT = /^\[(IN-USE|SYS\/TEMP|LOGIN-DELAY)\]/i;

const CRLF_DOT = /^\.\r?\n$/;

export class Pop3Client {
  private lines: Buffer[] = [];
  private head = 0;
  // A line not yet ended: its pieces, joined once when its LF arrives (linear, issue 10: one
  // Buffer.concat per chunk made a 50 MB line without LF take minutes). Past `cap` bytes the rest
  // of the line is counted but not kept.
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Bytes of over-long lines that were counted but not kept. */
  private dropped = 0;
  private readonly cap: number;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onError = (e: Error) => this.fail(e);
  private readonly onClose = () => this.fail(new Pop3Error("the server closed the connection", "unreachable"));
  private secure: boolean;

  private constructor(
    private socket: Socket,
    private readonly where: string,
    private readonly opts: Pop3Options,
  ) {
    this.cap = (opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) + 1;
    this.secure = !!opts.tls;
    this.listen(socket);
  }

  private listen(socket: Socket): void {
    socket.on("data", this.onData);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
  }

  private unlisten(socket: Socket): void {
    socket.off("data", this.onData);
    socket.off("error", this.onError);
    socket.off("close", this.onClose);
  }

  /** True once the session is encrypted (implicit TLS or STLS). */
  get encrypted(): boolean {
    return this.secure;
  }

  /**
   * RFC 2595 §4: STLS upgrades the session to TLS before the password is sent. false when the
   * server refuses it (the caller decides whether plaintext is allowed); throws when the handshake
   * fails (a bad certificate is never accepted).
   */
  async stls(): Promise<boolean> {
    if (this.secure) return true;
    const r = await this.command("STLS");
    if (!r.ok) return false;
    const plain = this.socket;
    this.unlisten(plain);
    const host = this.opts.host;
    const secured = tlsConnect({ socket: plain, ...(isIP(host) ? {} : { servername: host }), ...this.opts.tlsOptions });
    await new Promise<void>((resolve, reject) => {
      secured.once("secureConnect", resolve);
      secured.once("error", (e) => reject(new Pop3Error(`STLS with ${this.where} failed: ${e.message}`, "unreachable", (e as { code?: string }).code)));
    });
    this.socket = secured;
    this.listen(secured);
    this.secure = true;
    return true;
  }

  /** Connects and reads the greeting. */
  static async connect(opts: Pop3Options): Promise<Pop3Client> {
    const timeout = opts.timeoutMs ?? 30_000;
    const socket = opts.tls
      ? tlsConnect({ host: opts.host, port: opts.port, ...(isIP(opts.host) ? {} : { servername: opts.host }), ...opts.tlsOptions })
      : netConnect({ host: opts.host, port: opts.port });
    socket.setTimeout(timeout, () => socket.destroy(new Pop3Error(`no answer from ${opts.host}:${opts.port} in ${timeout} ms`, "unreachable", "ETIMEDOUT")));
    const where = `${opts.host}:${opts.port}`;
    opts.signal?.addEventListener("abort", () => socket.destroy(), { once: true });
    const client = new Pop3Client(socket, where, opts);
    try {
      const greeting = await client.within(timeout, "the greeting", () => client.response());
      if (!greeting.ok) throw new Pop3Error(`${where} refused the connection: ${greeting.text}`, "protocol");
    } catch (e) {
      socket.destroy();
      const err = e as Pop3Error;
      throw err.kind === "unreachable" ? new Pop3Error(`cannot reach ${where}: ${err.cause instanceof Error ? err.cause.message : err.message}`, "unreachable", err.code) : err;
    }
    return client;
  }

  async login(user: string, password: string): Promise<void> {
    // A mailbox locked by another session ([IN-USE]) or a server in trouble ([SYS/TEMP]) is a
    // transient fault (RFC 3206): the next cycle tries again; only a real refusal is "auth".
    const refused = (text: string) => new Pop3Error(`login refused for ${user}: ${text}`, TRANSIENT.test(text) ? "unreachable" : "auth");
    const u = await this.command(`USER ${user}`);
    if (!u.ok) throw refused(u.text);
    const p = await this.command(`PASS ${password}`);
    if (!p.ok) throw refused(p.text);
  }

  /** Number of messages and their total size. */
  async stat(): Promise<{ count: number; size: number }> {
    const r = await this.expect("STAT");
    const [count, size] = r.split(/\s+/).map(Number);
    return { count, size };
  }

  /**
   * The size of message n from `LIST n` (RFC 1939 §5: "+OK n size"); null when the server refuses
   * it or answers something else (the caller then relies on RETR's cap).
   */
  async list(n: number): Promise<number | null> {
    const r = await this.command(`LIST ${n}`);
    const size = Number(r.text.split(/\s+/)[1]);
    return r.ok && Number.isSafeInteger(size) && size >= 0 ? size : null;
  }

  /**
   * Unique ids by message number (RFC 1939 §7, optional: null when the server lacks UIDL). The
   * listing is as long as the server makes it: past `max` lines it is refused (the connection is
   * then out of step and must be dropped), never held whole.
   */
  async uidl(max = 100_000): Promise<Map<number, string> | null> {
    return this.within(this.messageDeadline, "UIDL", async () => {
      const r = await this.command("UIDL");
      if (!r.ok) return null;
      const map = new Map<number, string>();
      await this.multiline((line) => {
        if (map.size >= max) throw new Pop3Error(`UIDL from ${this.where} lists more than ${max} messages`, "protocol");
        const [n, id] = line.toString("latin1").trim().split(/\s+/);
        map.set(Number(n), id);
      });
      return map;
    });
  }

  /** The whole message, dot-unstuffed, line endings as the server sent them (CRLF). */
  async retr(n: number): Promise<Buffer> {
    return (await this.retrieve(n)).bytes;
  }

  /** RETR, keeping at most maxMessageBytes + 1 bytes; the rest is read to the end and discarded. */
  async retrieve(n: number): Promise<Retrieved> {
    return this.within(this.messageDeadline, `RETR ${n}`, () => this.retrieveNow(n));
  }

  private async retrieveNow(n: number): Promise<Retrieved> {
    await this.expect(`RETR ${n}`);
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let size = 0;
    const droppedBefore = this.dropped;
    await this.multiline((line) => {
      size += line.length;
      if (keptBytes >= this.cap) return;
      const part = keptBytes + line.length > this.cap ? line.subarray(0, this.cap - keptBytes) : line;
      kept.push(part);
      keptBytes += part.length;
    });
    size += this.dropped - droppedBefore;
    return { bytes: Buffer.concat(kept), truncated: size > keptBytes, size };
  }

  /** Marks a message deleted; it goes at QUIT. */
  async dele(n: number): Promise<void> {
    await this.expect(`DELE ${n}`);
  }

  /** Ends the session; the server now removes the messages marked deleted. */
  async quit(): Promise<void> {
    try {
      await this.expect("QUIT");
    } finally {
      this.socket.end();
    }
  }

  /** Drops the connection without QUIT: nothing marked deleted is removed. */
  destroy(): void {
    this.socket.destroy();
  }

  private async expect(line: string): Promise<string> {
    const r = await this.command(line);
    if (!r.ok) throw new Pop3Error(`${line.split(" ")[0]} failed: ${r.text}`, "protocol");
    return r.text;
  }

  private async command(line: string): Promise<{ ok: boolean; text: string }> {
    if (this.failure) throw this.failure;
    this.socket.write(`${line}\r\n`);
    return this.within(this.opts.timeoutMs ?? 30_000, line.split(" ")[0], () => this.response());
  }

  private get messageDeadline(): number {
    return this.opts.messageDeadlineMs ?? 10 * 60_000;
  }

  /**
   * The socket's timeout is an idle timeout: a server sending a byte every few seconds held the
   * agent forever. This bounds a whole answer: past `ms` the connection is dropped (nothing marked
   * deleted is removed without QUIT, RFC 1939 §6) and the waiting read fails as unreachable.
   */
  private async within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
    const timer = setTimeout(() => {
      this.fail(new Pop3Error(`no answer from ${this.where} in ${ms} ms (${what} not complete)`, "unreachable", "ETIMEDOUT"));
      this.socket.destroy();
    }, ms);
    try {
      return await fn();
    } finally {
      clearTimeout(timer);
    }
  }

  private async response(): Promise<{ ok: boolean; text: string }> {
    const line = (await this.nextLine()).toString("utf8").replace(/\r?\n$/, "");
    if (line.startsWith("+OK")) return { ok: true, text: line.slice(3).trim() };
    if (line.startsWith("-ERR")) return { ok: false, text: line.slice(4).trim() };
    throw new Pop3Error(`unexpected answer from the server: ${line.slice(0, 200)}`, "protocol");
  }

  /** Lines up to the terminating "." line, with the leading dot of ".." lines removed (RFC 1939 §3). */
  private async multiline(each: (line: Buffer) => void): Promise<void> {
    for (;;) {
      const line = await this.nextLine();
      if (line[0] === 0x2e) {
        if (line.length <= 3 && CRLF_DOT.test(line.toString("latin1"))) return;
        each(line.subarray(1));
      } else each(line);
    }
  }

  private async nextLine(): Promise<Buffer> {
    while (this.head >= this.lines.length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const line = this.lines[this.head++];
    if (this.head > 4096) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    return line;
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(0x0a);
    while (nl !== -1) {
      this.keep(chunk.subarray(start, nl + 1), true);
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start), false);
    this.notify();
  }

  /** Adds a piece to the open line (at most `cap` bytes of a line are kept); `ends`: it holds the LF. */
  private keep(piece: Buffer, ends: boolean): void {
    if (ends && this.carry.length === 0 && piece.length <= this.cap) {
      this.lines.push(piece);
      return;
    }
    const body = ends ? piece.subarray(0, piece.length - 1) : piece;
    const room = Math.max(0, this.cap - this.carryBytes);
    const take = body.length <= room ? body : body.subarray(0, room);
    this.dropped += body.length - take.length;
    if (take.length) {
      // Copied when the line stays open: the pieces outlive this chunk.
      this.carry.push(ends ? take : Buffer.from(take));
      this.carryBytes += take.length;
    }
    if (!ends) return;
    // The LF is always kept, so a cut line still ends and the "." terminator is still seen.
    this.carry.push(piece.subarray(piece.length - 1));
    this.lines.push(Buffer.concat(this.carry, this.carryBytes + 1));
    this.carry = [];
    this.carryBytes = 0;
  }

  private fail(e: Error): void {
    if (!this.failure) {
      const code = (e as { code?: string }).code;
      this.failure = e instanceof Pop3Error ? e : new Pop3Error(`connection to ${this.where} failed: ${e.message}`, "unreachable", code);
      if (!(e instanceof Pop3Error)) this.failure.cause = e;
    }
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
