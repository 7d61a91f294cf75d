import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { root } from "../helpers/cli.js";

describe("config", () => {
  it("an empty object gives the defaults", () => {
    expect(parseConfig({})).toEqual(defaultConfig);
  });

  it("the example configuration in examples/config.json is valid", () => {
    const c = parseConfig(JSON.parse(readFileSync(`${root}/examples/config.json`, "utf8")));
    expect(c.routes[0]).toEqual({ address: "service@example.test", kind: "ticket", queue: "service", sendResponse: true });
    expect(c.outbound.transport).toBe("file");
  });

  it("nested objects merge over the defaults", () => {
    const c = parseConfig({ limits: { confirmationsPerAddressPerDay: 2 }, outbound: { transport: "file", dir: "/tmp/x" } });
    expect(c.limits).toEqual({ ...defaultConfig.limits, confirmationsPerAddressPerDay: 2 });
    expect(c.outbound).toMatchObject({ transport: "file", dir: "/tmp/x", from: defaultConfig.outbound.from });
  });

  it.each([
    [{ referencePrefx: "X" }, 'unknown key "referencePrefx"'],
    [{ referencesFrom: "everyone" }, '"referencesFrom" must be one of "participants", "anyone"'],
    [{ routes: [{ address: "a@b", kind: "task" }] }, '"routes[0].kind" must be one of'],
    [{ routes: [{ kind: "ticket" }] }, '"routes[0].address" is required'],
    [{ routes: [{ address: "a@b", kind: "ticket", colour: "red" }] }, 'unknown key "routes[0].colour"'],
    [{ assignment: [{ when: { subjectMatches: "(" }, assignee: "x" }] }, '"assignment[0].when.subjectMatches" must be a valid regular expression'],
    [{ assignment: [{ when: {} }] }, '"assignment[0].assignee" is required'],
    [{ outbound: { transport: "pigeon" } }, '"outbound.transport" must be one of'],
    [{ limits: { confirmationsPerAddressPerDay: -1 } }, '"limits.confirmationsPerAddressPerDay" must be a whole number'],
    [{ busyTimeoutMs: "soon" }, '"busyTimeoutMs" must be a whole number'],
    [{ flood: { maxNewIssues: 3 } }, '"flood.windowMinutes" is required'],
    [[], "must be an object"],
    [null, "must be an object"],
    // Names Object.prototype has are unknown keys too (JSON.parse makes "__proto__" an own key).
    [JSON.parse('{"__proto__": {"x": 1}}'), 'unknown key "__proto__"'],
    [{ toString: 1 }, 'unknown key "toString"'],
    // Node's recursive mkdir under the kernel's file systems never ends.
    [{ logFile: "/proc/nope/ingest.log" }, '"logFile" must be a path on disk, not under /proc or /sys'],
    [{ attachmentsDir: "/sys/x" }, '"attachmentsDir" must be a path on disk'],
    [{ outbound: { dir: "/proc/o" } }, '"outbound.dir" must be a path on disk'],
    [{ limits: { constructor: 1 } }, 'unknown key "limits.constructor"'],
    [{ routes: [JSON.parse('{"__proto__": {"address": "a@b", "kind": "ticket"}}')] }, 'unknown key "routes[0].__proto__"'],
  ])("refuses %j naming the key", (value, message) => {
    expect(() => parseConfig(value)).toThrow(ConfigError);
    expect(() => parseConfig(value)).toThrow(message);
  });
});
