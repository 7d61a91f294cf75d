import { describe, expect, it } from "vitest";
import { systemdListenFd } from "../../src/systemd-socket.js";

describe("socket activation (sd_listen_fds)", () => {
  it.each([
    [{ LISTEN_PID: "42", LISTEN_FDS: "1" }, 42, 3],
    [{ LISTEN_PID: "42", LISTEN_FDS: "2" }, 42, 3],
    [{ LISTEN_PID: "41", LISTEN_FDS: "1" }, 42, null], // meant for another process
    [{ LISTEN_PID: "42", LISTEN_FDS: "0" }, 42, null],
    [{ LISTEN_PID: "42", LISTEN_FDS: "x" }, 42, null],
    [{ LISTEN_FDS: "1" }, 42, null],
    [{}, 42, null],
  ])("%j in process %s → fd %s", (env, pid, fd) => {
    expect(systemdListenFd(env, pid)).toBe(fd);
  });
});
