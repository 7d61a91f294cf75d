// `ingest-mail doctor` through the built binary (issue 14 point 1): a healthy installation passes
// (exit 0); each broken part fails its own check with a fix (exit 78); as root it checks as the
// database's owner or --as USER.
import Database from "better-sqlite3";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFixture, runAsync, type Sandbox } from "./helpers/cli.js";
import { configured } from "./helpers/setup.js";

const isRoot = process.getuid?.() === 0;

interface Check {
  id: string;
  status: "pass" | "warn" | "fail";
  detail: string;
  fix: string | null;
}

async function doctor(sb: Sandbox, ...args: string[]) {
  const r = await runAsync(sb, ["doctor", "--json", ...args], "");
  const report = r.json<{ ok: boolean; user: { name: string; uid: number }; checks: Check[] }>();
  const check = (id: string) => {
    const c = report.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id} in ${JSON.stringify(report.checks.map((x) => x.id))}`);
    return c;
  };
  return { ...r, report, check, failed: report.checks.filter((c) => c.status === "fail").map((c) => c.id) };
}

/** A sandbox with a database made by one real delivery, the file transport, and a log file. */
async function installed(config: (dir: string) => Record<string, unknown> = () => ({})): Promise<Sandbox> {
  const sb = configured((dir) => ({ outbound: { transport: "file", dir: join(dir, "outbox"), from: "service@example.test" }, logFile: join(dir, "log", "ingest.log"), ...config(dir) }));
  const r = await runAsync(sb, [], readFixture("new-mail-opens-issue.eml"));
  expect(r.code, r.stderr).toBe(0);
  return sb;
}

/** A configured sandbox without its database (configured() creates one, as `init` would). */
function fresh(): Sandbox {
  const sb = configured();
  for (const f of [sb.db, `${sb.db}-wal`, `${sb.db}-shm`]) rmSync(f, { force: true });
  return sb;
}

/** Hands a folder and everything in it to a user (as root). */
const chownAll = (p: string, uid: number) => {
  chownSync(p, uid, uid);
  if (statSync(p).isDirectory()) for (const f of readdirSync(p)) chownAll(join(p, f), uid);
};

/** Changes keys of the sandbox's configuration file. */
const reconfigure = (sb: Sandbox, keys: Record<string, unknown>) => {
  const file = sb.env.INGEST_MAIL_CONFIG!;
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), ...keys }));
};

/** A fix that would chmod, chown or install -d one of these folders (pasted as root, it breaks the machine). */
const touches = (fix: string | null, folders: string[]) => folders.some((f) => new RegExp(`(chmod|chown)( -R)? \\S+ ${f}( |$)|install -d .* ${f}( |,|$)`).test(fix ?? ""));

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A fake SMTP server on 127.0.0.1 that sends `greeting` on connect (or nothing). */
function fakeSmtp(greeting: string | null): Promise<number> {
  return new Promise((resolve) => {
    const sockets: Socket[] = [];
    const srv = createServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
      if (greeting !== null) s.write(greeting);
      s.on("data", (d) => /QUIT/.test(String(d)) && s.end("221 bye\r\n"));
    });
    srv.on("close", () => sockets.forEach((s) => s.destroy()));
    servers.push(srv);
    srv.listen(0, "127.0.0.1", () => resolve((srv.address() as { port: number }).port));
  });
}

describe("ingest-mail doctor", () => {
  it("a working installation passes: exit 0, database and schema checked, a table with fixes", async () => {
    const sb = await installed();
    const d = await doctor(sb);
    expect(d.code, d.stderr).toBe(0);
    expect(d.report.ok).toBe(true);
    expect(d.failed).toEqual([]);
    expect(d.check("config")).toMatchObject({ status: "pass", detail: expect.stringContaining("INGEST_MAIL_CONFIG") });
    expect(d.check("database").status).toBe("pass");
    expect(d.check("schema")).toMatchObject({ status: "pass", detail: expect.stringMatching(/schema version \d+ \(current\)/) });
    expect(d.check("folder:database").status).toBe("pass"); // mkdtemp: 0700
    expect(d.check("outbound").status).toBe("pass");
    expect(d.check("stuck").status).toBe("pass");
    expect(d.check("outbox").status).toBe("pass");
    expect(d.check("disk").status).not.toBe("fail");
    // Human output: one row per check with its fix.
    const human = await runAsync(sb, ["doctor"], "");
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^pass\s+database\s+/m);
    expect(human.stdout).toMatch(/\d+ pass, \d+ warn, 0 fail/);
  });

  it("a folder other users can read is a warning with the chmod that fixes it", async () => {
    const sb = await installed();
    mkdirSync(join(sb.dir, "attachments"), { recursive: true });
    chmodSync(join(sb.dir, "attachments"), 0o755);
    const d = await doctor(sb);
    expect(d.check("folder:attachments")).toMatchObject({ status: "warn", fix: `chmod 700 ${join(sb.dir, "attachments")}` });
    expect(d.code).toBe(0);
  });

  it("a database from a newer program fails the schema check: exit 78", async () => {
    const sb = await installed();
    const db = new Database(sb.db);
    db.pragma("user_version = 999");
    db.close();
    const d = await doctor(sb);
    expect(d.check("schema")).toMatchObject({ status: "fail", detail: expect.stringContaining("999 is newer") });
    expect(d.code).toBe(78);
    expect(d.stderr).toContain("doctor: 1 check(s) failed: schema");
  });

  it("stuck records and failed outgoing mail are warnings that name the command to run", async () => {
    const sb = await installed();
    const db = new Database(sb.db);
    db.prepare("UPDATE staged_mails SET status = 'new', updated_at = '2001-01-01T00:00:00.000Z'").run();
    const insert = db.prepare("INSERT INTO outbound_mails (kind, to_address, subject, message_id, status, error, created_at, attempts) VALUES ('confirmation', 'a@b', 's', ?, 'failed', 'timeout', '2001-01-01T00:00:00.000Z', ?)");
    insert.run("<x@y>", 1);
    insert.run("<z@y>", 99);
    db.close();
    const d = await doctor(sb);
    expect(d.check("stuck")).toMatchObject({ status: "warn", detail: expect.stringMatching(/^1 staged mail/), fix: expect.stringContaining("ingest-mail recover") });
    expect(d.check("outbox")).toMatchObject({ status: "warn", detail: expect.stringMatching(/^2 outgoing mail.*1 past the retry limit/), fix: expect.stringContaining("outbox retry") });
    expect(d.code).toBe(0);
  });

  it("an invalid configuration fails, naming the key and never quoting the file", async () => {
    const sb = await installed();
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, '{"addressSecret": "hunter2", "referencePrefx": "X"}');
    const d = await doctor(sb);
    expect(d.check("config")).toMatchObject({ status: "fail", detail: expect.stringContaining('unknown key "referencePrefx"') });
    expect(d.stdout + d.stderr).not.toContain("hunter2");
    expect(d.code).toBe(78);
  });

  it("a configuration holding a secret, readable by everyone, is a warning", async () => {
    const sb = await installed(() => ({ addressSecret: "hunter2" }));
    chmodSync(sb.env.INGEST_MAIL_CONFIG!, 0o644);
    const d = await doctor(sb);
    expect(d.check("config-file")).toMatchObject({ status: "warn", detail: expect.stringContaining("holds a secret") });
    expect(d.check("signing-secret")).toMatchObject({ status: "pass", detail: expect.stringContaining("addressSecret") });
  });

  it("the signing secret kept in the database (issue 10) is found", async () => {
    const sb = await installed();
    const db = new Database(sb.db);
    db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('address_secret', 'abc123')").run();
    db.close();
    expect((await doctor(sb)).check("signing-secret")).toMatchObject({ status: "pass", detail: expect.stringContaining("settings.address_secret") });
    const db2 = new Database(sb.db);
    db2.prepare("DELETE FROM settings").run();
    db2.close();
    expect((await doctor(sb)).check("signing-secret").status).toBe("warn");
  });

  it("sendmail that is not executable fails when the configuration sends mail", async () => {
    const sb = await installed((dir) => ({ adminAddress: "admin@example.test", outbound: { transport: "sendmail", path: join(dir, "sendmail"), from: "s@example.test" } }));
    writeFileSync(join(sb.dir, "sendmail"), "#!/bin/sh\n", { mode: 0o644 });
    const d = await doctor(sb);
    expect(d.check("outbound")).toMatchObject({ status: "fail", detail: expect.stringContaining("not executable") });
    expect(d.code).toBe(78);
    chmodSync(join(sb.dir, "sendmail"), 0o755);
    expect((await doctor(sb)).check("outbound").status).toBe("pass");
  });

  it("an SMTP relay that greets passes; one that stays silent fails within the timeout", async () => {
    const good = await fakeSmtp("220-fake.test ESMTP\r\n220 ready\r\n");
    const silent = await fakeSmtp(null);
    const refusing = await fakeSmtp("554 5.7.1 no service\r\n");
    const smtp = (port: number) => () => ({ adminAddress: "admin@example.test", outbound: { transport: "smtp", url: `smtp://127.0.0.1:${port}`, from: "s@example.test" } });

    const ok = await doctor(await installed(smtp(good)));
    expect(ok.check("outbound")).toMatchObject({ status: "pass", detail: expect.stringContaining("ready") });
    expect(ok.code).toBe(0);

    const started = Date.now();
    const quiet = await doctor(await installed(smtp(silent)), "--timeout", "1");
    expect(quiet.check("outbound")).toMatchObject({ status: "fail", detail: expect.stringContaining("no greeting within 1000 ms") });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(quiet.code).toBe(78);

    const no = await doctor(await installed(smtp(refusing)));
    expect(no.check("outbound")).toMatchObject({ status: "fail", detail: expect.stringContaining("answered 554") });
  });

  it.each([
    ["an empty file", () => "", "an empty file"],
    ["someone else's database", (file: string) => new Database(file).exec("CREATE TABLE customers (id)").close(), "not an ingest-mail database"],
  ])("%s where the database should be fails", async (_name, make, detail) => {
    const sb = fresh();
    const made = make(sb.db);
    if (typeof made === "string") writeFileSync(sb.db, made);
    const d = await doctor(sb);
    expect(d.check("database")).toMatchObject({ status: "fail", detail: expect.stringContaining(detail) });
    expect(d.code).toBe(78);
  });

  it("a database that does not exist yet is a warning, and doctor does not create it", async () => {
    const sb = fresh();
    const d = await doctor(sb);
    expect(d.check("database")).toMatchObject({ status: "warn", detail: expect.stringContaining("does not exist yet") });
    expect(readdirSync(sb.dir)).not.toContain("ingest.db");
  });

  it.skipIf(!isRoot)("as root: checks as the database's owner (switching uid), and --as USER", async () => {
    const sb = await installed();
    // As another user the 0700 root-owned sandbox is out of reach: fails, with the fix.
    const other = await doctor(sb, "--as", "nobody");
    expect(other.report.user).toMatchObject({ name: "nobody", uid: 65534 });
    expect(other.check("user").detail).toContain("switched from root");
    expect(other.check("database").status).toBe("fail");
    expect(other.code).toBe(78);

    // Handed over to nobody: the default user is the database's owner, and everything passes.
    chownAll(sb.dir, 65534);
    const owner = await doctor(sb);
    expect(owner.report.user.name).toBe("nobody");
    expect(owner.check("database").status).toBe("pass");
    expect(owner.failed).toEqual([]);
    expect(owner.code).toBe(0);
    // Nothing the checks touched became root's.
    const rootOwned: string[] = [];
    const walk = (p: string) => {
      if (statSync(p).uid === 0) rootOwned.push(p);
      if (statSync(p).isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    };
    walk(sb.dir);
    expect(rootOwned).toEqual([]);
  });

  it.skipIf(isRoot)("not root: says the checks did not run as the delivery user", async () => {
    console.warn("[doctor] the user-switching test needs root; run the suite as root (CI does) to cover it");
    const sb = await installed();
    const d = await doctor(sb, "--as", "nobody");
    expect(d.check("user").status).toBe("warn");
  });

  it("a log file in /var/log or under /proc: the fix names the file (or a folder of its own), never a chmod or chown of the shared folder", async (ctx) => {
    const varLog = statSync("/var/log", { throwIfNoEntry: false });
    if (!isRoot || !varLog?.isDirectory() || varLog.uid !== 0 || varLog.mode & 0o022) {
      console.warn("[doctor] the /var/log test needs root (to check as nobody too) and a root-owned /var/log that only root may write: skipped");
      return ctx.skip();
    }
    const sb = await installed();
    // Doctor creates nothing: this file must not exist afterwards.
    const log = `/var/log/ingest-mail-doctor-test-${process.pid}.log`;
    reconfigure(sb, { logFile: log });

    // As root (the database's owner), who may create the file in /var/log: nothing to fix.
    const asRoot = await doctor(sb);
    expect(asRoot.check("folder:log")).toMatchObject({ status: "pass", detail: expect.stringContaining("/var/log (a system folder: left as it is") });
    expect(asRoot.check("file:log")).toMatchObject({ status: "pass", fix: null });
    expect(asRoot.code, asRoot.stderr).toBe(0);

    // As nobody (who owns the database's folder): only the file needs making, with its owner and mode.
    chownAll(sb.dir, 65534);
    const asNobody = await doctor(sb);
    expect(asNobody.report.user.name).toBe("nobody");
    expect(asNobody.check("folder:log").status).toBe("pass");
    expect(asNobody.check("file:log")).toMatchObject({ status: "fail", fix: `install -o nobody -m 600 /dev/null ${log}` });
    expect(asNobody.failed).toEqual(["file:log"]);

    // Under /proc nothing can be written at all: the configuration itself is refused, naming the key.
    reconfigure(sb, { logFile: "/proc/ingest-mail.log" });
    const proc = await doctor(sb);
    expect(proc.check("config")).toMatchObject({ status: "fail", detail: expect.stringContaining('"logFile" must be a path on disk, not under /proc or /sys') });

    for (const d of [asRoot, asNobody, proc]) for (const c of d.report.checks) expect(touches(c.fix, ["/var/log", "/proc", "/var", "/"]), `${c.id}: ${c.fix}`).toBe(false);
    expect(existsSync(log)).toBe(false);
  });

  it("a read-only database file: chmod when its owner is the user, chown only when the owner differs", async () => {
    const sb = await installed();
    // Root may write any file: the checks must run as someone else, the database's owner.
    if (isRoot) chownAll(sb.dir, 65534);
    const me = isRoot ? "nobody" : (await doctor(sb)).report.user.name;
    chmodSync(sb.db, 0o444);
    const readOnly = await doctor(sb);
    expect(readOnly.check("file:database")).toMatchObject({ status: "fail", detail: `${sb.db} is not writable by ${me}`, fix: `chmod 600 ${sb.db}` });
    expect(readOnly.code).toBe(78);
    if (!isRoot) return console.warn("[doctor] the chown half of the read-only database test needs root (a file another user owns)");
    chownSync(sb.db, 0, 0);
    chmodSync(sb.db, 0o644);
    const foreign = await doctor(sb, "--as", "nobody");
    expect(foreign.check("file:database")).toMatchObject({ status: "fail", fix: `chown nobody ${sb.db}` });
  });

  it("failed mail past the retry limit: doctor's fix and outbox retry name the same command with its ids", async () => {
    const sb = await installed();
    const db = new Database(sb.db);
    const insert = db.prepare("INSERT INTO outbound_mails (kind, to_address, subject, message_id, status, error, created_at, attempts) VALUES ('confirmation', 'a@b', 's', ?, 'failed', 'timeout', '2001-01-01T00:00:00.000Z', ?)");
    const ids = [insert.run("<x@y>", 5).lastInsertRowid, insert.run("<z@y>", 99).lastInsertRowid];
    db.close();
    const command = `ingest-mail outbox retry ${ids.join(" ")}`;
    const d = await doctor(sb);
    expect(d.check("outbox")).toMatchObject({ status: "warn", detail: "2 outgoing mail(s) failed (2 past the retry limit: only outbox retry ID sends them)", fix: `fix the transport (see outbound), then ${command}` });
    // Without ids, outbox retry sends none of them: it says they are there and how to send them.
    const retry = await runAsync(sb, ["outbox", "retry"], "");
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toBe(`2 failed outgoing mail(s) past the retry limit (limits.outboxMaxAttempts 5), sent only when named: ${command}\n`);
  });

  it("an unknown --as user is a usage error", async () => {
    const r = await runAsync(configured(), ["doctor", "--as", "no-such-user-here"], "");
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('no such user "no-such-user-here"');
  });
});
