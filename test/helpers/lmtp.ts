// A deliberately plain LMTP client for the protocol tests: raw bytes out, replies in, so a test can
// pipeline, misbehave and disconnect at will. And the daemon under test: the built binary's
// `serve`, started on a unix socket in a sandbox and stopped with SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { bin, type Sandbox } from "./cli.js";

export interface Reply {
  code: number;
  /** The text of every line, without the code. */
  lines: string[];
  /** The last line as sent, e.g. "250 2.0.0 <a@x> staged as 1". */
  line: string;
}

export class LmtpClient {
  private buf = "";
  private replies: Reply[] = [];
  private current: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d) => {
      this.buf += d.toString("utf8");
      let i: number;
      while ((i = this.buf.indexOf("\r\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        this.current.push(line.slice(4));
        if (line[3] !== "-") {
          this.replies.push({ code: Number(line.slice(0, 3)), lines: this.current, line });
          this.current = [];
        }
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async connect(path: string): Promise<LmtpClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new LmtpClient(socket);
  }

  /** Waits for n more replies (fails after `ms`, or when the server closes first). */
  async read(n = 1, ms = 15_000): Promise<Reply[]> {
    const deadline = Date.now() + ms;
    while (this.replies.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.replies.length} of ${n} replies: ${JSON.stringify(this.replies)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} replies, got ${JSON.stringify(this.replies)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.replies.splice(0, n);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return (await this.read(1))[0];
  }

  /** Waits until the server closes the connection. */
  async closedByServer(ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the server did not close the connection");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The message as DATA sends it: CRLF lines, dot-stuffed, ended by CRLF.CRLF. */
export function dataOf(message: string | Buffer): Buffer {
  const text = Buffer.isBuffer(message) ? message.toString("latin1") : Buffer.from(message, "utf8").toString("latin1");
  const lines = text.replace(/\r?\n/g, "\r\n").replace(/\r\n$/, "").split("\r\n");
  return Buffer.from(lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n") + "\r\n.\r\n", "latin1");
}

/** One whole transaction, pipelined (RFC 2920): returns the replies of MAIL, each RCPT, DATA and the per-recipient ones. */
export async function deliver(c: LmtpClient, from: string, to: string[], message: string | Buffer): Promise<{ mail: Reply; rcpt: Reply[]; data: Reply; results: Reply[] }> {
  c.write(`MAIL FROM:<${from}>\r\n${to.map((t) => `RCPT TO:<${t}>\r\n`).join("")}DATA\r\n`);
  const [mail, ...rest] = await c.read(2 + to.length);
  const rcpt = rest.slice(0, to.length);
  const data = rest[to.length];
  if (data.code !== 354) return { mail, rcpt, data, results: [] };
  c.write(dataOf(message));
  const accepted = rcpt.filter((r) => r.code === 250).length;
  return { mail, rcpt, data, results: await c.read(accepted) };
}

export interface RunningDaemon {
  child: ChildProcess;
  socket: string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `ingest-mail serve` from the built binary on a unix socket in the sandbox. */
export async function startDaemon(sb: Sandbox, extra: string[] = [], socket = join(sb.dir, "lmtp.sock")): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [bin, "serve", "--lmtp", `unix:${socket}`, ...extra], { env: sb.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!/listening on/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    socket,
    stderr: () => stderr,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls until fn() is true (processing happens after the 250). */
export async function until(fn: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
