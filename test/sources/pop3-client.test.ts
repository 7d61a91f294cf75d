// The POP3 client against a scripted server on loopback: dot-unstuffing, bytes kept, errors classified.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { Pop3Client, Pop3Error } from "../../src/sources/pop3-client.js";

type Handler = (line: string, sock: Socket) => void;

let server: Server | null = null;
const seen: string[] = [];

async function serve(handler: Handler, greeting = "+OK ready\r\n"): Promise<number> {
  seen.length = 0;
  server = createServer((sock) => {
    sock.write(greeting);
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      let i;
      while ((i = buf.indexOf("\r\n")) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        handler(line, sock);
      }
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

// A message with a leading-dot line, an 8-bit byte and CRLF, as the server sends it (dot-stuffed).
const MESSAGE = Buffer.concat([Buffer.from("Subject: dots\r\n\r\n.hidden\r\n..two\r\nend \xe9\r\n", "latin1")]);
const STUFFED = Buffer.from("Subject: dots\r\n\r\n..hidden\r\n...two\r\nend \xe9\r\n.\r\n", "latin1");

const happy: Handler = (line, sock) => {
  if (line.startsWith("USER")) sock.write("+OK\r\n");
  else if (line === "PASS secret") sock.write("+OK logged in\r\n");
  else if (line.startsWith("PASS")) sock.write("-ERR [AUTH] Authentication failed.\r\n");
  else if (line === "STAT") sock.write("+OK 2 120\r\n");
  else if (line === "UIDL") sock.write("+OK\r\n1 aaa\r\n2 bbb\r\n.\r\n");
  else if (line === "RETR 1") {
    // Split at awkward places: inside the terminator and inside a line.
    sock.write(Buffer.concat([Buffer.from("+OK 60 octets\r\n"), STUFFED.subarray(0, 20)]));
    setTimeout(() => sock.write(STUFFED.subarray(20, STUFFED.length - 2)), 5);
    setTimeout(() => sock.write(STUFFED.subarray(STUFFED.length - 2)), 10);
  } else if (line.startsWith("DELE")) sock.write("+OK deleted\r\n");
  else if (line === "QUIT") sock.end("+OK bye\r\n");
  else sock.write("-ERR unknown\r\n");
};

describe("POP3 client", () => {
  it("logs in, lists, retrieves (dot-unstuffed, bytes kept), deletes, quits", async () => {
    const port = await serve(happy);
    const c = await Pop3Client.connect({ host: "127.0.0.1", port });
    await c.login("support", "secret");
    expect(await c.stat()).toEqual({ count: 2, size: 120 });
    expect(await c.uidl()).toEqual(new Map([[1, "aaa"], [2, "bbb"]]));
    expect(await c.retr(1)).toEqual(MESSAGE);
    await c.dele(1);
    await c.quit();
    expect(seen).toEqual(["USER support", "PASS secret", "STAT", "UIDL", "RETR 1", "DELE 1", "QUIT"]);
  });

  it("a refused password is an auth error", async () => {
    const port = await serve(happy);
    const c = await Pop3Client.connect({ host: "127.0.0.1", port });
    const err = await c.login("support", "wrong").catch((e) => e);
    expect(err).toBeInstanceOf(Pop3Error);
    expect(err).toMatchObject({ kind: "auth", message: "login refused for support: [AUTH] Authentication failed." });
    c.destroy();
  });

  it("a closed port is unreachable", async () => {
    const port = await serve(happy);
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    const err = await Pop3Client.connect({ host: "127.0.0.1", port }).catch((e) => e);
    expect(err).toMatchObject({ kind: "unreachable", code: "ECONNREFUSED", message: expect.stringMatching(/^cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/) });
  });

  it("a server that never answers times out as unreachable", async () => {
    const port = await serve(() => {}, "");
    const err = await Pop3Client.connect({ host: "127.0.0.1", port, timeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ kind: "unreachable", message: expect.stringMatching(/no answer from 127\.0\.0\.1:\d+ in 200 ms/) });
  });

  it("a connection dropped in the middle of a message is an error, never a short message", async () => {
    const port = await serve((line, sock) => {
      if (line === "RETR 1") sock.end("+OK\r\nSubject: cut\r\n\r\nhalf a bo");
      else sock.write("+OK\r\n");
    });
    const c = await Pop3Client.connect({ host: "127.0.0.1", port });
    await c.login("u", "p");
    await expect(c.retr(1)).rejects.toMatchObject({ kind: "unreachable" });
  });

  it("a server without UIDL gives null", async () => {
    const port = await serve((line, sock) => sock.write(line === "UIDL" ? "-ERR not supported\r\n" : "+OK\r\n"));
    const c = await Pop3Client.connect({ host: "127.0.0.1", port });
    expect(await c.uidl()).toBeNull();
    c.destroy();
  });

  it("a greeting of -ERR is refused", async () => {
    const port = await serve(() => {}, "-ERR too busy\r\n");
    await expect(Pop3Client.connect({ host: "127.0.0.1", port })).rejects.toMatchObject({ kind: "protocol", message: expect.stringMatching(/refused the connection: too busy/) });
  });

  it.skipIf(spawnSync("openssl", ["version"]).status !== 0)("--tls: implicit TLS (pop3s), the certificate checked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pop3-tls-"));
    const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]);
    expect(gen.status).toBe(0);
    const cert = readFileSync(join(dir, "cert.pem"));
    const tlsServer = createTlsServer({ key: readFileSync(join(dir, "key.pem")), cert }, (sock) => {
      sock.write("+OK tls ready\r\n");
      sock.on("data", (d) => {
        for (const line of d.toString().split("\r\n").filter(Boolean)) {
          seen.push(line);
          if (line === "QUIT") sock.end("+OK bye\r\n");
          else sock.write(line === "STAT" ? "+OK 0 0\r\n" : "+OK\r\n");
        }
      });
    });
    seen.length = 0;
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
    const port = (tlsServer.address() as { port: number }).port;
    try {
      const c = await Pop3Client.connect({ host: "127.0.0.1", port, tls: true, tlsOptions: { ca: cert, servername: "localhost" } });
      await c.login("u", "p");
      expect(await c.stat()).toEqual({ count: 0, size: 0 });
      await c.quit();
      expect(seen).toEqual(["USER u", "PASS p", "STAT", "QUIT"]);
      // Without trusting the certificate the connection is refused, never used in the clear.
      await expect(Pop3Client.connect({ host: "127.0.0.1", port, tls: true, tlsOptions: { servername: "localhost" } })).rejects.toMatchObject({ kind: "unreachable", message: expect.stringMatching(/self[- ]signed/i) });
    } finally {
      tlsServer.close();
    }
  });
});
