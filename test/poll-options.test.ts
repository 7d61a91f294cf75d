// `ingest-mail poll` through the built binary, without a real mail server (test/e2e/poll.test.ts has
// Dovecot): the options it refuses before connecting, and an agent whose stderr or stdout reader
// goes away.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { bin, run, sandbox } from "./helpers/cli.js";

let server: Server | null = null;
let connections = 0;

afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
});

/** A port on loopback where every connection is closed at once: each cycle fails and is retried. */
async function hangUpServer(): Promise<number> {
  connections = 0;
  server = createServer((sock) => {
    connections += 1;
    sock.destroy();
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

const poll = (port: string, ...more: string[]) => ["poll", "pop3", "--host", "127.0.0.1", "--port", port, "--user", "u", "--insecure-plaintext", ...more];

describe("poll refuses out-of-range options before connecting (64)", () => {
  // Port 0 connected to the protocol's default port; above 65535 Node's own error ended the agent
  // with 70 or 75 (which systemd restarts forever). An interval past Node's timer limit (2^31-1 ms) fired every millisecond: the old agent never
  // stopped, so each run has a time limit.
  it.each([
    ["--port 0", ["0", "--once"], "--port must be between 1 and 65535, got 0"],
    ["--port 65536", ["65536", "--once"], "--port must be between 1 and 65535, got 65536"],
    ["--port 70000 with --interval", ["70000", "--interval", "60"], "--port must be between 1 and 65535, got 70000"],
    ["--interval 86401", ["1", "--interval", "86401"], "--interval must be at most 86400 seconds (a day), got 86401; for longer, run --once from a timer"],
    ["--interval 2147484", ["1", "--interval", "2147484"], "--interval must be at most 86400 seconds (a day), got 2147484; for longer, run --once from a timer"],
  ])("%s", (_name, [port, ...more], message) => {
    const sb = sandbox({ INGEST_MAIL_PASSWORD: "p" });
    const r = run(sb, poll(port, ...more), undefined, { timeout: 15_000 });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toBe(`ingest-mail: ${message}\n`);
  });
});

describe("poll with a reader of its output that went away", () => {
  // `poll … 2>&1 | head -1`, or a log collector restarting: the next write fails with EPIPE. The
  // agent died of it with exit 1; it drops the line (the log file keeps it) and polls on.
  it.each([
    ["stderr", [] as string[]],
    ["stderr and stdout (--json)", ["--json"]],
  ])("closed %s: the agent keeps polling and exits 0 on SIGTERM", async (_what, more) => {
    const port = await hangUpServer();
    const sb = sandbox({ INGEST_MAIL_PASSWORD: "p" });
    const agent = spawn(process.execPath, [bin, ...poll(String(port), "--interval", "1", ...more)], { env: sb.env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((r) => agent.on("close", r));
    // The first cycle's line, then the reader goes away.
    await new Promise((r) => agent.stderr.once("data", r));
    if (more.includes("--json")) agent.stdout.destroy();
    agent.stderr.destroy();
    const before = connections;
    // Two more cycles, each writing to the closed pipe(s).
    const until = Date.now() + 15_000;
    while (connections < before + 2 && Date.now() < until && agent.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(agent.exitCode).toBe(null);
    expect(connections).toBeGreaterThanOrEqual(before + 2);
    agent.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});
