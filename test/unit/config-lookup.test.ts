// Where the configuration comes from (issue 14), JSON errors that never quote the file, and masking.
import { describe, expect, it } from "vitest";
import { configProblems, maskSecrets } from "../../src/config-check.js";
import { describeJsonError, locateConfig, SYSTEM_CONFIG } from "../../src/config-lookup.js";
import { defaultConfig, parseConfig } from "../../src/config.js";

const SYS = SYSTEM_CONFIG;
const USER = "/home/ada/.config/ingest-mail/config.json";
const XDG = "/xdg/ingest-mail/config.json";

describe("configuration lookup order", () => {
  it.each([
    ["--config wins over everything", "/opt/c.json", { INGEST_MAIL_CONFIG: "/env.json", HOME: "/home/ada" }, [SYS, USER], { file: "/opt/c.json", source: "option" }],
    ["INGEST_MAIL_CONFIG next (even when missing: an error, not a fallback)", undefined, { INGEST_MAIL_CONFIG: "/env.json", HOME: "/home/ada" }, [SYS, USER], { file: "/env.json", source: "env" }],
    ["then the system file", undefined, { HOME: "/home/ada" }, [SYS, USER], { file: SYS, source: "system" }],
    ["then the user's file under ~/.config", undefined, { HOME: "/home/ada" }, [USER], { file: USER, source: "user" }],
    ["XDG_CONFIG_HOME replaces ~/.config", undefined, { HOME: "/home/ada", XDG_CONFIG_HOME: "/xdg" }, [USER, XDG], { file: XDG, source: "user" }],
    ["else the defaults", undefined, { HOME: "/home/ada" }, [], { file: null, source: "defaults" }],
    ["no HOME, no XDG: no user file", undefined, {}, [USER], { file: null, source: "defaults" }],
    ["INGEST_MAIL_SYSTEM_CONFIG moves the system file", undefined, { INGEST_MAIL_SYSTEM_CONFIG: "/usr/local/etc/im.json" }, [SYS, "/usr/local/etc/im.json"], { file: "/usr/local/etc/im.json", source: "system" }],
  ])("%s", (_name, option, env, present, want) => {
    const exists = (f: string) => (present as string[]).includes(f);
    expect(locateConfig(option, env as NodeJS.ProcessEnv, exists)).toEqual(want);
  });
});

describe("JSON errors name the place, never the text", () => {
  it.each([
    ['{"addressSecret": hunter2-secret}', "line 1, column 19"],
    ['{\n  "addressSecret": "hunter2-secret",\n}', "line 3, column 1"],
    ['{\n  "a": 1\n  "addressSecret": "hunter2-secret"}', "line 3, column 3"],
    ['{"addressSecret": "hunter2-secret"', "line 1, column 35"],
    ['{"addressSecret": "hunter2-secret"}x', "line 1, column 36"],
  ])("%j → %s", (text, where) => {
    let err: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      err = e;
    }
    const msg = describeJsonError(text, err);
    expect(msg).toContain(where);
    expect(msg).not.toMatch(/hunter2|secret/);
  });
});

describe("config show masks secrets", () => {
  it("addressSecret, passwords, password hashes and URL passwords", () => {
    const shown = maskSecrets({
      ...parseConfig({ addressSecret: "s3cr3t", outbound: { transport: "smtp", url: "smtp://user:p4ss@relay.example.test:587", from: "a@b" } }),
      web: { passwordHash: "$argon2id$abc", user: "admin" },
      poll: { password: "pw" },
    });
    const text = JSON.stringify(shown);
    for (const secret of ["s3cr3t", "p4ss", "argon2id", '"pw"']) expect(text).not.toContain(secret);
    expect(shown.outbound.url).toBe("smtp://user:********@relay.example.test:587");
    expect(shown.web).toEqual({ passwordHash: "********", user: "admin" });
    expect(shown.referencePrefix).toBe("CS-");
  });

  it("an unset secret stays visibly unset", () => {
    expect(maskSecrets(defaultConfig).addressSecret).toBeNull();
  });
});

describe("checks across keys", () => {
  it.each([
    [{ outbound: { transport: "smtp", from: "a@b" } }, "outbound.url"],
    [{ outbound: { transport: "smtp", url: "http://relay", from: "a@b" } }, "outbound.url"],
  ])("%j → %s", (value, key) => {
    expect(configProblems(parseConfig(value)).map((p) => p.key)).toEqual([key]);
  });

  it("the example configuration has none", () => {
    expect(configProblems(parseConfig({ outbound: { transport: "smtp", url: "smtps://relay.example.test", from: "a@b" } }))).toEqual([]);
  });
});
