// The mailbox agent against a real Dovecot (IMAP and POP3) on 127.0.0.1, with Maildirs the test
// seeds: one contract that both Mailbox strategies pass, then `ingest-mail poll` through the built
// binary (seen / moved / deleted only once staged, no duplicates, exit codes, SIGTERM, log lines).
import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { ImapMailbox } from "../../src/sources/imap.js";
import { MailboxError, type Mailbox } from "../../src/sources/mailbox.js";
import { Pop3Mailbox } from "../../src/sources/pop3.js";
import { bin, ingest, mail, runAsync, sandbox, type Sandbox } from "../helpers/cli.js";
import { cannotRun, freePort, install, readIf, script, skipWhen, waitFor } from "./helpers.js";

let IMAP_PORT = 0;
let POP3_PORT = 0;
const USERS = ["cimap", "cpop3", "imap1", "imap2", "imap3", "imap4", "imap5", "pop1", "pop2", "bad", "sig", "idle"];
let skip: string | null = cannotRun;
let e2eDir = "";
let started = false;
let vmail = { uid: 0, gid: 0 };

const skipIfCannot = (ctx: TestContext) => skipWhen(skip, "dovecot", ctx);

const maildir = (user: string) => join(e2eDir, "dovecot", "mail", user, "Maildir");
let seq = 0;

/** Delivers messages into a user's Maildir new/ the way an MDA does. */
function seed(user: string, messages: string[]): void {
  const dir = maildir(user);
  for (const text of messages) {
    seq += 1;
    const name = `${1700000000 + seq}.M${seq}P${process.pid}.e2e`;
    writeFileSync(join(dir, "tmp", name), text);
    spawnSync("mv", [join(dir, "tmp", name), join(dir, "new", name)]);
    chownSync(join(dir, "new", name), vmail.uid, vmail.gid);
  }
}

/** The Maildir as Dovecot left it: messages per sub-folder with their flags. */
function state(user: string, folder = "") {
  const dir = folder ? join(maildir(user), `.${folder}`) : maildir(user);
  const list = (sub: string) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)) : []);
  const cur = list("cur");
  return { new: list("new").length, cur: cur.length, seen: cur.filter((n) => /:2,[A-Z]*S/.test(n)).length };
}

const customer = (n: number, tag: string) => mail({ From: `Customer ${n} <c${n}.${tag}@customer.test>`, To: "support@example.test", Subject: `${tag} question ${n}`, "Message-ID": `<${tag}-${n}@customer.test>` }, `Body ${n}\n`);

function pollArgs(protocol: "imap" | "pop3", user: string, extra: string[] = []) {
  return ["poll", protocol, "--host", "127.0.0.1", "--port", String(protocol === "imap" ? IMAP_PORT : POP3_PORT), "--user", user, "--insecure-plaintext", ...extra]; // Dovecot here runs with ssl = no (issue 10: plaintext needs the flag)
}

// Async so that the test worker keeps answering vitest while the agent runs.
const runA = (sb: Sandbox, args: string[]) => runAsync(sb, args, "");

function withPassword(sb: Sandbox, password = "secret"): Sandbox {
  return { ...sb, env: { ...sb.env, INGEST_MAIL_PASSWORD: password } };
}

function stagedCount(dbPath: string, where = "1=1"): number {
  if (!existsSync(dbPath)) return 0;
  const d = new Database(dbPath, { readonly: true });
  try {
    return (d.prepare(`SELECT count(*) AS n FROM staged_mails WHERE ${where}`).get() as { n: number }).n;
  } catch {
    return 0; // not migrated yet
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  if (skip) return;
  IMAP_PORT = await freePort();
  POP3_PORT = await freePort();
  skip = await install();
  if (skip) return;
  // Dovecot's own processes (users dovecot, vmail) must reach this folder.
  e2eDir = mkdtempSync(join(tmpdir(), "ingest-mail-dovecot-"));
  chmodSync(e2eDir, 0o755);
  const r = await script(["dovecot-start"], { E2E_DIR: e2eDir, DOVECOT_USERS: USERS.join(" "), IMAP_PORT: String(IMAP_PORT), POP3_PORT: String(POP3_PORT) });
  if (r.code !== 0) throw new Error(`dovecot did not start: ${r.out}`);
  started = true;
  const id = (flag: string) => Number(spawnSync("id", [flag, "vmail"], { encoding: "utf8" }).stdout.trim());
  vmail = { uid: id("-u"), gid: id("-g") };
}, 600_000);

afterAll(async () => {
  if (started) await script(["dovecot-stop"], { E2E_DIR: e2eDir });
});

// ---- one contract, both strategies (cf. unstorage's shared driver tests) ----

const strategies: [string, string, (password?: string, port?: number) => Mailbox][] = [
  ["imap", "cimap", (password = "secret", port = IMAP_PORT) => new ImapMailbox({ host: "127.0.0.1", port, user: "cimap", password, mailbox: "INBOX", insecurePlaintext: true })],
  ["pop3", "cpop3", (password = "secret", port = POP3_PORT) => new Pop3Mailbox({ host: "127.0.0.1", port, user: "cpop3", password, insecurePlaintext: true })],
];

describe.each(strategies)("Mailbox contract: %s against Dovecot", (name, user, make) => {
  const texts = [1, 2, 3].map((n) => customer(n, `contract-${name}`));

  it("lists waiting mail oldest first and fetches the bytes without changing anything", async (ctx) => {
    skipIfCannot(ctx);
    seed(user, texts);
    const box = make();
    await box.open();
    const pending = await box.pending();
    expect(pending).toHaveLength(3);
    const got = [];
    for (const m of pending) got.push((await box.fetch(m))!.toString().replace(/\r\n/g, "\n"));
    expect(got).toEqual(texts);
    await box.close();
    const again = make();
    await again.open();
    expect(await again.pending()).toHaveLength(3); // fetching marked nothing
    await again.close();
  });

  it("done() then close(): that message is no longer waiting; abort() without done() keeps all", async (ctx) => {
    skipIfCannot(ctx);
    const box = make();
    await box.open();
    const [first] = await box.pending();
    await box.fetch(first);
    await box.done(first);
    await box.close();
    const after = make();
    await after.open();
    const left = await after.pending();
    expect(left).toHaveLength(2);
    await after.fetch(left[0]);
    after.abort();
    const still = make();
    await still.open();
    expect(await still.pending()).toHaveLength(2);
    for (const m of await still.pending()) await still.done(m);
    await still.close();
  });

  it("a wrong password is refused; a closed port is unreachable", async (ctx) => {
    skipIfCannot(ctx);
    await expect(make("wrong").open()).rejects.toMatchObject({ name: "MailboxError", kind: "refused" });
    const err = await make("secret", 1).open().catch((e) => e);
    expect(err).toBeInstanceOf(MailboxError);
    expect(err.kind).toBe("unreachable");
  });
});

// ---- the command ----

describe("ingest-mail poll imap (real Dovecot)", () => {
  it("--once: each unseen message is staged and processed, then flagged \\Seen; a second poll finds nothing", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    writeFileSync(join(sb.dir, "config.json"), JSON.stringify({ logFile: join(sb.dir, "ingest.log") }));
    sb.env.INGEST_MAIL_CONFIG = join(sb.dir, "config.json");
    seed("imap1", [1, 2, 3].map((n) => customer(n, "imap1")));
    const r = await runA(sb, [...pollArgs("imap", "imap1"), "--once", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ protocol: "imap", mailbox: `imap1@127.0.0.1:${IMAP_PORT}/INBOX`, ok: true, fetched: 3, counts: { complete: 3 } });
    expect(r.stderr).toMatch(new RegExp(`^ingest-mail: poll imap imap1@127\\.0\\.0\\.1:${IMAP_PORT}/INBOX: 3 messages staged \\(complete 3\\) in \\d+ ms\n$`));
    expect(state("imap1")).toEqual({ new: 0, cur: 3, seen: 3 });
    expect(stagedCount(sb.db, "source = 'imap' AND status = 'complete'")).toBe(3);
    const again = await runA(sb, [...pollArgs("imap", "imap1"), "--once"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/: 0 messages staged in \d+ ms/);
    expect(stagedCount(sb.db)).toBe(3);
    // A line per poll cycle in the log file too.
    expect(readIf(join(sb.dir, "ingest.log")).match(/poll imap imap1@127\.0\.0\.1:\d+\/INBOX: \d messages? staged/g)).toHaveLength(2);
  });

  it("a message already staged (crash before the flag) comes back as duplicate: no second issue", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    const texts = [1, 2].map((n) => customer(n, "imap2"));
    seed("imap2", texts);
    expect(ingest(sb, texts[0]).status).toBe("complete"); // staged, but the mailbox never heard
    const r = await runA(sb, [...pollArgs("imap", "imap2"), "--once", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().counts).toEqual({ duplicate: 1, complete: 1 });
    expect(state("imap2").seen).toBe(2);
    const d = new Database(sb.db, { readonly: true });
    expect(d.prepare("SELECT count(*) AS n FROM issues").get()).toEqual({ n: 2 });
    d.close();
  });

  it("exit 75 when the database cannot store: nothing is flagged; the next poll stages it", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    writeFileSync(join(sb.dir, "config.json"), JSON.stringify({ busyTimeoutMs: 100 }));
    sb.env.INGEST_MAIL_CONFIG = join(sb.dir, "config.json");
    expect(ingest(sb, customer(0, "imap3-setup")).status).toBe("complete");
    seed("imap3", [customer(1, "imap3")]);
    const lock = new Database(sb.db);
    lock.exec("BEGIN EXCLUSIVE");
    lock.prepare("UPDATE issues SET updated_at = updated_at").run();
    const r = await runA(sb, [...pollArgs("imap", "imap3"), "--once"]);
    lock.exec("ROLLBACK");
    lock.close();
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/could not store mail, left on the server: database is locked/);
    expect(state("imap3")).toMatchObject({ seen: 0 });
    const again = await runA(sb, [...pollArgs("imap", "imap3"), "--once", "--json"]);
    expect(again.code).toBe(0);
    expect(again.json().counts).toEqual({ complete: 1 });
    expect(state("imap3").seen).toBe(1);
  });

  it("--move-to: staged mail is moved to that folder (created if missing), the inbox is left empty", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    seed("imap4", [1, 2].map((n) => customer(n, "imap4")));
    const r = await runA(sb, [...pollArgs("imap", "imap4"), "--once", "--move-to", "Processed", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().counts).toEqual({ complete: 2 });
    expect(state("imap4")).toEqual({ new: 0, cur: 0, seen: 0 });
    expect(state("imap4", "Processed").cur + state("imap4", "Processed").new).toBe(2);
  });

  it("--password-file: the first line of the file is the password", async (ctx) => {
    skipIfCannot(ctx);
    const sb = sandbox();
    writeFileSync(join(sb.dir, "password"), "secret\n");
    seed("imap5", [customer(1, "imap5")]);
    const r = await runA(sb, [...pollArgs("imap", "imap5"), "--once", "--password-file", join(sb.dir, "password")]);
    expect(r.code).toBe(0);
    expect(stagedCount(sb.db)).toBe(1);
  });
});

describe("ingest-mail poll pop3 (real Dovecot)", () => {
  it("--once: each message is staged, then deleted (DELE, carried out at QUIT)", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    seed("pop1", [1, 2, 3].map((n) => customer(n, "pop1")));
    const r = await runA(sb, [...pollArgs("pop3", "pop1"), "--once", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ protocol: "pop3", fetched: 3, counts: { complete: 3 } });
    expect(state("pop1")).toEqual({ new: 0, cur: 0, seen: 0 });
    expect(stagedCount(sb.db, "source = 'pop3' AND status = 'complete'")).toBe(3);
    expect((await runA(sb, [...pollArgs("pop3", "pop1"), "--once", "--json"])).json()).toMatchObject({ fetched: 0 });
  });

  it("exit 75 when the database cannot store: the message stays on the server", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    writeFileSync(join(sb.dir, "config.json"), JSON.stringify({ busyTimeoutMs: 100 }));
    sb.env.INGEST_MAIL_CONFIG = join(sb.dir, "config.json");
    expect(ingest(sb, customer(0, "pop2-setup")).status).toBe("complete");
    seed("pop2", [customer(1, "pop2")]);
    const lock = new Database(sb.db);
    lock.exec("BEGIN EXCLUSIVE");
    lock.prepare("UPDATE issues SET updated_at = updated_at").run();
    const r = await runA(sb, [...pollArgs("pop3", "pop2"), "--once"]);
    lock.exec("ROLLBACK");
    lock.close();
    expect(r.code).toBe(75);
    expect(state("pop2").new + state("pop2").cur).toBe(1);
    expect((await runA(sb, [...pollArgs("pop3", "pop2"), "--once", "--json"])).json().counts).toEqual({ complete: 1 });
    expect(state("pop2").new + state("pop2").cur).toBe(0);
  });

  it("--move-to is refused for POP3 (64)", async () => {
    const r = await runA(withPassword(sandbox()), [...pollArgs("pop3", "pop1"), "--once", "--move-to", "X"]);
    expect(r.code).toBe(64);
  });
});

describe("ingest-mail poll: faults and stopping", () => {
  it.each(["imap", "pop3"] as const)("%s: bad credentials exit 78 and touch nothing", async (protocol, ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox(), "wrong");
    seed("bad", [customer(1, `bad-${protocol}`)]);
    const r = await runA(sb, [...pollArgs(protocol, "bad"), "--once"]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^ingest-mail: login refused for bad/);
    expect(stagedCount(sb.db)).toBe(0);
    expect(state("bad").seen).toBe(0);
  });

  it.each(["imap", "pop3"] as const)("%s: an unreachable server exits 75", async (protocol) => {
    const sb = withPassword(sandbox());
    const r = await runA(sb, ["poll", protocol, "--host", "127.0.0.1", "--port", "1", "--user", "x", "--once"]);
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/^ingest-mail: cannot reach 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it("no password at all is a usage error (64)", async () => {
    const r = await runA(sandbox(), ["poll", "imap", "--host", "127.0.0.1", "--port", "1", "--user", "x", "--once"]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no password: give --password-file FILE or set INGEST_MAIL_PASSWORD/);
  });

  it("SIGTERM during a cycle: stops between messages, exit 0; every staged message is flagged and no other", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    seed("sig", Array.from({ length: 40 }, (_, i) => customer(i, "sig")));
    const child = spawn(process.execPath, [bin, ...pollArgs("imap", "sig"), "--interval", "60"], { env: sb.env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    await waitFor("the first messages to be staged", () => stagedCount(sb.db) >= 2, 30_000, 20);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stopped by SIGTERM/);
    const staged = stagedCount(sb.db);
    expect(staged).toBeGreaterThanOrEqual(2);
    expect(state("sig").seen).toBe(staged);
    expect(stagedCount(sb.db, "status <> 'complete'")).toBe(0);
  });

  it("SIGTERM while waiting for the next cycle: exits at once with 0", async (ctx) => {
    skipIfCannot(ctx);
    const sb = withPassword(sandbox());
    const child = spawn(process.execPath, [bin, ...pollArgs("imap", "idle"), "--interval", "600"], { env: sb.env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    await waitFor("the first cycle", () => /0 messages staged/.test(stderr), 30_000, 20);
    const t = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(stderr).toMatch(/stopped by SIGTERM/);
  });
});
