// A small POP3 client (RFC 1939) on node:net / node:tls: USER/PASS, STAT, UIDL, RETR, DELE, QUIT.
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
}

const CRLF_DOT = /^\.\r?\n$/;

export class Pop3Client {
  private lines: Buffer[] = [];
  private head = 0;
  private carry: Buffer | null = null;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Pop3Error("the server closed the connection", "unreachable")));
  }

  /** Connects and reads the greeting. */
  static async connect(opts: Pop3Options): Promise<Pop3Client> {
    const timeout = opts.timeoutMs ?? 30_000;
    const socket = opts.tls
      ? tlsConnect({ host: opts.host, port: opts.port, ...(isIP(opts.host) ? {} : { servername: opts.host }), ...opts.tlsOptions })
      : netConnect({ host: opts.host, port: opts.port });
    socket.setTimeout(timeout, () => socket.destroy(new Pop3Error(`no answer from ${opts.host}:${opts.port} in ${timeout} ms`, "unreachable", "ETIMEDOUT")));
    const where = `${opts.host}:${opts.port}`;
    const client = new Pop3Client(socket, where);
    try {
      const greeting = await client.response();
      if (!greeting.ok) throw new Pop3Error(`${where} refused the connection: ${greeting.text}`, "protocol");
    } catch (e) {
      socket.destroy();
      const err = e as Pop3Error;
      throw err.kind === "unreachable" ? new Pop3Error(`cannot reach ${where}: ${err.cause instanceof Error ? err.cause.message : err.message}`, "unreachable", err.code) : err;
    }
    return client;
  }

  async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    if (!u.ok) throw new Pop3Error(`login refused for ${user}: ${u.text}`, "auth");
    const p = await this.command(`PASS ${password}`);
    if (!p.ok) throw new Pop3Error(`login refused for ${user}: ${p.text}`, "auth");
  }

  /** Number of messages and their total size. */
  async stat(): Promise<{ count: number; size: number }> {
    const r = await this.expect("STAT");
    const [count, size] = r.split(/\s+/).map(Number);
    return { count, size };
  }

  /** Unique ids by message number (RFC 1939 §7, optional: null when the server lacks UIDL). */
  async uidl(): Promise<Map<number, string> | null> {
    const r = await this.command("UIDL");
    if (!r.ok) return null;
    const map = new Map<number, string>();
    for (const line of await this.multiline()) {
      const [n, id] = line.toString("latin1").trim().split(/\s+/);
      map.set(Number(n), id);
    }
    return map;
  }

  /** The whole message, dot-unstuffed, line endings as the server sent them (CRLF). */
  async retr(n: number): Promise<Buffer> {
    await this.expect(`RETR ${n}`);
    return Buffer.concat(await this.multiline());
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
    return this.response();
  }

  private async response(): Promise<{ ok: boolean; text: string }> {
    const line = (await this.nextLine()).toString("utf8").replace(/\r?\n$/, "");
    if (line.startsWith("+OK")) return { ok: true, text: line.slice(3).trim() };
    if (line.startsWith("-ERR")) return { ok: false, text: line.slice(4).trim() };
    throw new Pop3Error(`unexpected answer from the server: ${line.slice(0, 200)}`, "protocol");
  }

  /** Lines up to the terminating "." line, with the leading dot of ".." lines removed (RFC 1939 §3). */
  private async multiline(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (line[0] === 0x2e) {
        if (CRLF_DOT.test(line.toString("latin1"))) return out;
        out.push(line.subarray(1));
      } else out.push(line);
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
      const piece = chunk.subarray(start, nl + 1);
      this.lines.push(this.carry ? Buffer.concat([this.carry, piece]) : piece);
      this.carry = null;
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) this.carry = this.carry ? Buffer.concat([this.carry, chunk.subarray(start)]) : Buffer.from(chunk.subarray(start));
    this.notify();
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
