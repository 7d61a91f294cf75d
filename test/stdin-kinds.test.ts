// The MTA's message on stdin, as each kind of descriptor brings it (src/cli/mta-io.ts): a pipe
// (procmail, a shell), read through a non-blocking descriptor of its own; a regular file
// (`ingest-mail < mail.eml`); a socket (Node's own child processes) through process.stdin. Each
// stores the exact bytes; on a pipe whose writer went quiet, SIGTERM still exits 75 at once
// (issue 9.6), where a blocking read would hold the exit until the writer closed.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, db, mail, rows, runAsync, storedBytes, type Sandbox } from "./helpers/cli.js";
import { configured } from "./helpers/setup.js";

/** A message larger than a pipe's buffer (64 KiB), so that the reader finds the pipe empty between writes. */
const big = () => mail({ From: "Ada <ada@customer.test>", To: "service@example.test", Subject: "big one" }, `${"A line of a long message, again and again.\n".repeat(8000)}`);

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** The stored raw message of the one staged record: inline, or its spool file. */
function storedHash(sb: Sandbox): string {
  const h = db(sb);
  try {
    const [r] = rows(h, "SELECT raw, raw_path AS path FROM staged_mails");
    return sha256(r.raw ? Buffer.from(r.raw as Uint8Array) : storedBytes(h, r.path as string));
  } finally {
    h.close();
  }
}

/** Starts the binary with stdin a named pipe (FIFO), and gives the pipe's writing end. */
async function overFifo(sb: Sandbox) {
  const fifo = join(sb.dir, "stdin.fifo");
  expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  const child = spawn("sh", ["-c", `exec "${process.execPath}" "${bin}" --json < "${fifo}"`], { env: sb.env });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const writer = await open(fifo, "w");
  return { child, writer, closed, out: () => out, err: () => err };
}

describe("stdin of each kind", () => {
  it("a pipe written in pieces, with pauses: every byte stored, processed", async () => {
    const sb = configured();
    const message = Buffer.from(big());
    const p = await overFifo(sb);
    for (let at = 0; at < message.length; at += 50_000) {
      await p.writer.write(message.subarray(at, at + 50_000));
      await new Promise((r) => setTimeout(r, 30));
    }
    await p.writer.close();
    expect(await p.closed, p.err()).toBe(0);
    expect(JSON.parse(p.out()).status).toBe("complete");
    expect(storedHash(sb)).toBe(sha256(message));
  });

  it("a pipe whose writer went quiet: SIGTERM exits 75 at once, nothing staged", async () => {
    const sb = configured();
    const p = await overFifo(sb);
    await p.writer.write("From: slow@example.com\nSubject: slow\n\n");
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    p.child.kill("SIGTERM");
    expect(await p.closed).toBe(75);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(p.err()).toMatch(/stopped by SIGTERM before the mail was staged/);
    await p.writer.close();
  });

  it("a regular file and a socket: every byte stored", async () => {
    const sb = configured();
    const message = big();
    const file = join(sb.dir, "mail.eml");
    writeFileSync(file, message);
    const r = spawnSync("sh", ["-c", `exec "${process.execPath}" "${bin}" --json < "${file}"`], { env: sb.env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(storedHash(sb)).toBe(sha256(message));
    const sb2 = configured();
    // Node's child processes get a socket pair for stdin.
    const viaSocket = await runAsync(sb2, ["--json"], message);
    expect(viaSocket.code, viaSocket.stderr).toBe(0);
    expect(storedHash(sb2)).toBe(sha256(message));
  });
});

describe("stdout", () => {
  it("a reader that went away (EPIPE) loses the summary, not the exit code: 0, the mail staged", async () => {
    const sb = configured();
    const child = spawn(process.execPath, [bin], { env: sb.env, stdio: ["pipe", "pipe", "pipe"] });
    // Gone before the summary is written.
    child.stdout.destroy();
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdin.end(mail({ From: "Ada <ada@customer.test>", To: "service@example.test", Subject: "nobody reads the summary" }));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(code, err).toBe(0);
    const h = db(sb);
    try {
      expect(rows(h, "SELECT status FROM staged_mails")).toEqual([{ status: "complete" }]);
    } finally {
      h.close();
    }
  });
});
