// Issue 9.6: whether a staged record's claim still holds (a pure decision; the liveness probe injected).
import { describe, expect, it } from "vitest";
import { CLAIM_LEASE_MS, claimIsLive } from "../../src/pipeline/claim.js";

const now = new Date("2026-12-06T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

describe("claimIsLive", () => {
  it.each([
    ["no claim", null, null, [], false],
    ["this process's own claim (the daemon processing what it staged)", "mx1:100", ago(1_000), [], true],
    ["a live process on this host", "mx1:200", ago(1_000), [200], true],
    ["a dead process on this host (killed)", "mx1:200", ago(1_000), [], false],
    ["a live pid past the lease (a reused pid)", "mx1:200", ago(CLAIM_LEASE_MS + 1), [200], false],
    ["another host, within the lease", "mx2:200", ago(60_000), [], true],
    ["another host, past the lease", "mx2:200", ago(CLAIM_LEASE_MS + 1), [], false],
    ["a host name with colons (IPv6-ish)", "fe80::1:200", ago(1_000), [200], true],
  ])("%s", (_name, by, at, pids, expected) => {
    const self = _name.startsWith("a host name with colons") ? "fe80::1:100" : "mx1:100";
    expect(claimIsLive(by, at, now, CLAIM_LEASE_MS, self, alive(pids))).toBe(expected);
  });
});
