// `ingest-mail poll` through the built binary, without a real mail server (test/e2e/poll.test.ts has
// Dovecot): the options it refuses before connecting.
import { describe, expect, it } from "vitest";
import { run, sandbox } from "./helpers/cli.js";

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
