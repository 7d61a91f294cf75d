// issue 12: where `serve --lmtp ADDR` listens; RFC 2033 §5: never on port 25.
import { describe, expect, it } from "vitest";
import { describeAddress, parseListenAddress } from "../../src/serve/address.js";

describe("parseListenAddress", () => {
  it.each([
    ["unix:/run/ingest-mail/lmtp.sock", { kind: "unix", path: "/run/ingest-mail/lmtp.sock" }],
    ["127.0.0.1:2424", { kind: "tcp", host: "127.0.0.1", port: 2424 }],
    ["2424", { kind: "tcp", host: "127.0.0.1", port: 2424 }],
    ["localhost:24", { kind: "tcp", host: "localhost", port: 24 }],
    ["[::1]:2424", { kind: "tcp", host: "::1", port: 2424 }],
  ])("%s → %o", (text, want) => {
    expect(parseListenAddress(text)).toEqual(want);
  });

  it.each([
    ["127.0.0.1:25", /never listen on port 25/],
    ["25", /never listen on port 25/],
    ["[::1]:25", /never listen on port 25/],
    ["unix:relative/lmtp.sock", /must be absolute/],
    ["127.0.0.1:0", /out of range/],
    ["127.0.0.1:70000", /out of range/],
    ["host:port", /expected unix:\/path/],
    ["", /expected unix:\/path/],
    ["systemd", /no socket passed in/],
  ])("%s is refused (%s)", (text, message) => {
    expect(() => parseListenAddress(text)).toThrow(message);
  });

  it("systemd: the first passed socket (fd 3) when LISTEN_PID is this process", () => {
    expect(parseListenAddress("systemd", { LISTEN_FDS: "1", LISTEN_PID: "42" }, 42)).toEqual({ kind: "fd", fd: 3 });
    expect(() => parseListenAddress("systemd", { LISTEN_FDS: "1", LISTEN_PID: "41" }, 42)).toThrow(/no socket passed in/);
  });

  it.each([
    [{ kind: "unix", path: "/s" } as const, "unix:/s"],
    [{ kind: "tcp", host: "::1", port: 24 } as const, "[::1]:24"],
    [{ kind: "tcp", host: "127.0.0.1", port: 24 } as const, "127.0.0.1:24"],
  ])("describes %o as %s", (a, text) => {
    expect(describeAddress(a)).toBe(text);
  });
});
