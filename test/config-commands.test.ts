// Configuration lookup and the config commands through the built binary (issue 14 point 2): the
// system file and the user's file are read when nothing names one; `config check` exits 0 / 78
// naming the key and never printing the file; `config show` says where the configuration came from
// and masks secrets. The system file is INGEST_MAIL_SYSTEM_CONFIG, set inside each sandbox.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mail, runAsync, sandbox, type Sandbox } from "./helpers/cli.js";

const write = (file: string, value: unknown) => {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
};

async function show(sb: Sandbox, ...args: string[]) {
  const r = await runAsync(sb, ["config", "show", "--json", ...args], "");
  expect(r.code, r.stderr).toBe(0);
  return r.json<{ source: { kind: string; file: string | null }; config: Record<string, any>; paths: { db: string } }>();
}

/** The reference of the issue a new mail opens: shows which referencePrefix the ingest path used. */
async function reference(sb: Sandbox): Promise<string> {
  const r = await runAsync(sb, ["--json"], mail({ From: "ann@customer.example", To: "service@example.test", Subject: "Help" }));
  expect(r.code, r.stderr).toBe(0);
  return r.json().issues[0].reference;
}

describe("where the configuration comes from", () => {
  it("--config, then INGEST_MAIL_CONFIG, then the system file, then ~/.config, then the defaults", async () => {
    const sb = sandbox();
    const system = sb.env.INGEST_MAIL_SYSTEM_CONFIG!;
    const user = join(sb.dir, ".config", "ingest-mail", "config.json"); // HOME is the sandbox
    expect((await show(sb)).source).toMatchObject({ kind: "defaults", file: null });
    expect(await reference(sb)).toMatch(/^CS-/);

    write(user, { referencePrefix: "USR-" });
    expect((await show(sb)).source).toMatchObject({ kind: "user", file: user });
    expect(await reference(sb)).toMatch(/^USR-/);

    write(system, { referencePrefix: "SYS-" });
    expect((await show(sb)).source).toMatchObject({ kind: "system", file: system });
    expect(await reference(sb)).toMatch(/^SYS-/);

    const env = write(join(sb.dir, "env.json"), { referencePrefix: "ENV-" });
    sb.env.INGEST_MAIL_CONFIG = env;
    expect((await show(sb)).source).toMatchObject({ kind: "env", file: env });
    expect(await reference(sb)).toMatch(/^ENV-/);

    const opt = write(join(sb.dir, "opt.json"), { referencePrefix: "OPT-" });
    expect((await show(sb, "--config", opt)).source).toMatchObject({ kind: "option", file: opt });
    expect((await show(sb, "--config", opt)).config.referencePrefix).toBe("OPT-");
  });

  it("XDG_CONFIG_HOME replaces ~/.config", async () => {
    const sb = sandbox();
    sb.env.XDG_CONFIG_HOME = join(sb.dir, "xdg");
    write(join(sb.dir, ".config", "ingest-mail", "config.json"), { referencePrefix: "HOME-" });
    write(join(sb.dir, "xdg", "ingest-mail", "config.json"), { referencePrefix: "XDG-" });
    expect((await show(sb)).config.referencePrefix).toBe("XDG-");
  });

  it("a broken system file is an error naming it, not a silent fall-back to the defaults", async () => {
    const sb = sandbox();
    write(sb.env.INGEST_MAIL_SYSTEM_CONFIG!, { referencePrefx: "X" });
    const r = await runAsync(sb, ["config", "show"], "");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('unknown key "referencePrefx"');
  });
});

describe("ingest-mail config show", () => {
  it("prints the source, the paths and the configuration with secrets masked", async () => {
    const sb = sandbox();
    const file = write(join(sb.dir, "c.json"), {
      addressSecret: "hunter2",
      outbound: { transport: "smtp", url: "smtp://bot:pa55word@relay.example.test:587", from: "s@example.test" },
      web: { passwordHash: "scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2g" },
    });
    const human = await runAsync(sb, ["config", "show", "--config", file], "");
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`# configuration: ${file} (--config)`);
    expect(human.stdout).toContain(`# database: ${sb.db}`);
    expect(human.stdout).not.toMatch(/hunter2|pa55word|aGFzaGhhc2g/);
    const json = await show(sb, "--config", file);
    expect(json.config.addressSecret).toBe("********");
    expect(json.config.outbound.url).toBe("smtp://bot:********@relay.example.test:587");
    expect(json.config.web.passwordHash).toBe("********");
    expect(json.config.limits).toMatchObject({ confirmationsPerAddressPerDay: 5, maxMessageBytes: 104857600 }); // defaults filled in
    expect(json.paths.db).toBe(sb.db);
  });
});

describe("ingest-mail config check FILE", () => {
  it.each([
    ["a valid file", { referencePrefix: "X-" }, 0, /ok/],
    ["an unknown key", { referencePrefx: "X-" }, 78, /unknown key "referencePrefx"/],
    ["a key named __proto__", '{"__proto__": {"x": 1}}', 78, /unknown key "__proto__"/],
    ["a wrong type", { busyTimeoutMs: "soon", addressSecret: "hunter2" }, 78, /"busyTimeoutMs" must be a whole number/],
    ["smtp without a URL", { outbound: { transport: "smtp", from: "a@b" } }, 78, /"outbound.url" is required/],
    ["invalid JSON around a secret", '{"addressSecret": hunter2}', 78, /not valid JSON \(line 1, column 19: unexpected character\)/],
  ])("%s → exit $2", async (_name, content, code, message) => {
    const sb = sandbox();
    const file = write(join(sb.dir, "candidate.json"), content);
    const r = await runAsync(sb, ["config", "check", file], "");
    expect(r.code).toBe(code);
    expect(r.stdout + r.stderr).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain("hunter2");
  });

  it("a missing file exits 78 naming it; --json reports the same", async () => {
    const sb = sandbox();
    const r = await runAsync(sb, ["config", "check", join(sb.dir, "nope.json"), "--json"], "");
    expect(r.code).toBe(78);
    expect(r.json()).toMatchObject({ ok: false, error: expect.stringContaining("cannot read") });
  });

  it("checks the file given, not the configuration in effect", async () => {
    const sb = sandbox();
    write(sb.env.INGEST_MAIL_SYSTEM_CONFIG!, { referencePrefx: "broken" });
    const good = write(join(sb.dir, "good.json"), {});
    expect((await runAsync(sb, ["config", "check", good], "")).code).toBe(0);
  });
});
