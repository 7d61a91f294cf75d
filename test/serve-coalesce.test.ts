// The LMTP listener sends the replies to pipelined commands (RFC 2920) in one write: MAIL, RCPT and
// DATA sent together are answered 250, 250, 354 by one write to the socket, where smtp-server alone
// made three (src/serve/coalesce-replies.ts). In process, against createLmtpServer itself.
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { GroupCommit } from "../src/serve/group-commit.js";
import { createLmtpServer, type LmtpState } from "../src/serve/lmtp.js";
import type { Delivery, RecipientResult } from "../src/serve/stage-adapter.js";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A listener on a unix socket whose connections count the writes that reach the operating system. */
async function listening(): Promise<{ path: string; writes: () => string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-coalesce-"));
  const path = join(dir, "lmtp.sock");
  const state: LmtpState = { draining: false, bytesInFlight: 0, transactions: 0, sessions: 0, delivered: 0, refused: 0 };
  const stager = new GroupCommit<Delivery, RecipientResult[]>(() => [], { windowMs: 0, maxBatch: 1 });
  const server = createLmtpServer({ maxMessageBytes: 1 << 20, maxConnections: 4, maxBytesInFlight: 1 << 24 }, { read: async () => Promise.reject(new Error("unused")), discard: () => {}, stager, staged: () => {}, log: () => {} }, state);
  const sent: string[] = [];
  server.server.on("connection", (socket: Socket) => {
    // What the socket hands to the operating system: one call per write, or one for a corked batch.
    const s = socket as unknown as { _write: (c: Buffer, e: string, cb: () => void) => void; _writev: (cs: { chunk: Buffer }[], cb: () => void) => void };
    const one = s._write.bind(socket);
    const many = s._writev.bind(socket);
    s._write = (c, e, cb) => (sent.push(String(c)), one(c, e, cb));
    s._writev = (cs, cb) => (sent.push(cs.map((c) => String(c.chunk)).join("")), many(cs, cb));
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { path, writes: () => sent };
}

/** Sends `text` and collects what comes back until `lines` reply lines (continuations aside) arrived. */
function exchange(socket: Socket, text: string | null, lines: number): Promise<string[]> {
  return new Promise((resolve) => {
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString("latin1");
      const finals = got.split("\r\n").filter((l) => /^\d{3} /.test(l));
      if (finals.length >= lines) {
        socket.off("data", onData);
        resolve(finals);
      }
    };
    socket.on("data", onData);
    if (text !== null) socket.write(text);
  });
}

describe("LMTP replies to pipelined commands", () => {
  it("answers MAIL, RCPT and DATA sent together with one write, in order", async () => {
    const { path, writes } = await listening();
    const socket = connect(path);
    cleanups.push(() => void socket.destroy());
    await exchange(socket, null, 1);
    await exchange(socket, "LHLO client.example\r\n", 1);
    const before = writes().length;
    const replies = await exchange(socket, "MAIL FROM:<a@customer.example>\r\nRCPT TO:<service@example.test>\r\nDATA\r\n", 3);
    expect(replies.map((l) => l.slice(0, 3))).toEqual(["250", "250", "354"]);
    // Without the coalescing, smtp-server's three replies are three writes.
    const after = writes().slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/^250 [^\r]*\r\n250 [^\r]*\r\n354 [^\r]*\r\n$/);
  });

  it("still answers a command sent alone at once", async () => {
    const { path } = await listening();
    const socket = connect(path);
    cleanups.push(() => void socket.destroy());
    await exchange(socket, null, 1);
    const [lhlo] = await exchange(socket, "LHLO client.example\r\n", 1);
    expect(lhlo).toMatch(/^250 /);
    const [noop] = await exchange(socket, "NOOP\r\n", 1);
    expect(noop).toMatch(/^250 /);
  });
});
