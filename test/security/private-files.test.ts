// Issue 10, points 5, 6, 7 and 9 (domain.md §9): private by default whatever the umask, symlinks
// refused, admin commands never create a database, root becomes the database's owner, and config
// paths resolve against the config file's folder. Through the built binary.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, db, run, sandbox } from "../helpers/cli.js";
import { withAttachment, walk } from "../hardening/support.js";
import { desk, letter } from "./support.js";

const mode = (p: string) => statSync(p).mode & 0o777;
const isRoot = process.getuid?.() === 0;
// withAttachment() writes to service@example.com: answer on that address too.
const dotCom = { supportAddresses: ["service@example.com"], routes: [{ address: "service@example.com", kind: "ticket", sendResponse: true }] };

let saved: number;
beforeAll(() => {
  // The children inherit this: the umask an MTA or a careless shell would give us.
  saved = process.umask(0o022);
});
afterAll(() => void process.umask(saved));

describe("private by default (point 5)", () => {
  it("under umask 022 the database, -wal, -shm, spool, attachments, outbox and log are 0600, folders 0700", () => {
    const d = desk({ ...dotCom, inlineRawMaxBytes: 1024 }, { init: false });
    const dataDir = join(d.dir, "data");
    d.env.INGEST_MAIL_DB = join(dataDir, "ingest.db");
    const r = run(d, ["--json"], withAttachment({ messageId: "modes@customer.example", from: "dora@customer.example", size: 4096 }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().outbound).toEqual([expect.objectContaining({ status: "sent" })]);
    // -wal and -shm are removed when the last connection closes; the next one to open (here, this
    // test, under umask 022) creates them with the database's own mode.
    const conn = db({ ...d, db: join(dataDir, "ingest.db") });
    const files = [join(dataDir, "ingest.db"), join(dataDir, "ingest.db-wal"), join(dataDir, "ingest.db-shm"), ...walk(join(dataDir, "attachments")).map((f) => join(dataDir, "attachments", f)), ...walk(join(dataDir, "spool")).map((f) => join(dataDir, "spool", f)), ...walk(d.outbox).map((f) => join(d.outbox, f))];
    expect(files.filter((f) => f.includes("attachments/")).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.includes("spool/")).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.includes("outbox/")).length).toBe(1);
    for (const f of files) expect([f, mode(f).toString(8)]).toEqual([f, "600"]);
    const dirs = [dataDir, join(dataDir, "attachments"), join(dataDir, "spool"), d.outbox, ...readdirSync(join(dataDir, "attachments")).map((s) => join(dataDir, "attachments", s))];
    for (const p of dirs) expect([p, mode(p).toString(8)]).toEqual([p, "700"]);
    conn.close();
  });

  it("the log file (and its folder) are private too", () => {
    // A confirmation to a closed port fails, and the failure is logged.
    const d = desk({ logFile: join("logs", "ingest.log"), outbound: { transport: "smtp", url: "smtp://127.0.0.1:1", from: "service@example.test" } }, { init: false });
    const r = run(d, ["--json"], letter({}));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().outbound).toEqual([expect.objectContaining({ status: "failed" })]);
    const log = join(d.dir, "logs", "ingest.log");
    expect(mode(log).toString(8)).toBe("600");
    expect(mode(join(d.dir, "logs")).toString(8)).toBe("700");
  });

  it("fileMode 0640 shares with the group: files 0640, folders 0750", () => {
    const d = desk({ ...dotCom, fileMode: "0640", inlineRawMaxBytes: 1024 }, { init: false });
    const data = join(d.dir, "data");
    d.env.INGEST_MAIL_DB = join(data, "ingest.db");
    const r = run(d, ["--json"], withAttachment({ messageId: "group@customer.example", from: "dora@customer.example", size: 4096 }));
    expect(r.code, r.stderr).toBe(0);
    const files = [join(data, "ingest.db"), ...["attachments", "spool"].flatMap((f) => walk(join(data, f)).map((x) => join(data, f, x))), ...walk(d.outbox).map((x) => join(d.outbox, x))];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect([f, mode(f).toString(8)]).toEqual([f, "640"]);
    for (const p of [data, join(data, "attachments"), join(data, "spool"), d.outbox]) expect([p, mode(p).toString(8)]).toEqual([p, "750"]);
  });

  it.runIf(isRoot)("user nobody cannot read mail out of the database", () => {
    const d = desk({}, { init: false });
    chmodSync(d.dir, 0o755);
    expect(run(d, ["--json"], letter({ Subject: "secret order" })).code).toBe(0);
    const r = spawnSync("cat", [d.db], { uid: 65534, gid: 65534 });
    expect(r.status).not.toBe(0);
    expect(String(r.stderr)).toMatch(/Permission denied/);
  });

  it.each([
    ["the attachments folder", "attachments"],
    ["the spool folder", "spool"],
    ["the outbox folder", "outbox"],
    ["the database", "ingest.db"],
  ])("a symlink where %s should be is refused, not followed", (what, name) => {
    const d = desk({}, { init: false });
    const elsewhere = join(d.dir, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(name === "ingest.db" ? join(elsewhere, "x.db") : elsewhere, join(d.dir, name));
    const r = run(d, ["--json"], withAttachment({ messageId: "link@customer.example", size: 100 }));
    expect([75, 78]).toContain(r.code);
    expect(r.stderr).toContain(`refusing to use ${what} ${join(d.dir, name)}: it is a symbolic link`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe("admin commands never create a database (point 6)", () => {
  it.each([["list"], ["show", "1"], ["issue", "list"], ["outbox", "list"], ["recover"], ["user", "add", "--email", "a@b.example"]])("%s on a missing database exits 66 naming the path; nothing is created", (...args) => {
    const sb = sandbox();
    const typo = join(sb.dir, "typo", "ingset.db");
    const r = run(sb, [...args, "--db", typo]);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(`no database at ${typo}`);
    expect(existsSync(join(sb.dir, "typo"))).toBe(false);
  });

  it("with no HOME and no XDG_DATA_HOME, list names the default path and creates nothing", () => {
    const sb = sandbox();
    const env = { PATH: process.env.PATH, LANG: "C", NO_COLOR: "1" };
    const target = "/var/lib/ingest-mail/ingest-mail.db";
    const existed = existsSync(target);
    const r = run({ ...sb, env }, ["list"]);
    if (existed) return; // this machine has one already (the e2e tests): nothing to prove here
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(`no database at ${target}`);
    expect(existsSync("/var/lib/ingest-mail")).toBe(false);
  });

  // A new admin running a command as the wrong user: told so, not "unable to open database file" (75)
  // nor, when the folder is closed to them, "no database". Root ignores permission bits: as nobody.
  it.skipIf(!isRoot).each([["a folder it may enter", 0o755], ["a folder it may not enter", 0o700]])("as another user, %s: 66, permission denied, nothing changed", (_, folderMode) => {
    const sb = sandbox();
    expect(run(sb, ["init"]).code).toBe(0);
    const folder = join(sb.dir, "private");
    mkdirSync(folder);
    const target = join(folder, "ingest.db");
    expect(run({ ...sb, env: { ...sb.env, INGEST_MAIL_DB: target } }, ["init"]).code).toBe(0);
    chmodSync(sb.dir, 0o755);
    chmodSync(folder, folderMode);
    const before = readdirSync(folder);
    const r = run({ ...sb, env: { ...sb.env, INGEST_MAIL_DB: target } }, ["list"], undefined, { uid: 65534, gid: 65534, cwd: "/" });
    expect(r.code, r.stderr).toBe(66);
    expect(r.stderr).toBe(`ingest-mail: cannot open the database ${target} as nobody: permission denied (run the command as the database's owner)\n`);
    expect(readdirSync(folder)).toEqual(before);
  });

  it.skipIf(!isRoot)("init as a user who may not write where the database goes: 66 naming the user and the folder, nothing made", () => {
    const sb = sandbox();
    chmodSync(sb.dir, 0o755);
    const target = join(sb.dir, "new", "sub", "ingest.db");
    const r = run({ ...sb, env: { ...sb.env, INGEST_MAIL_DB: target } }, ["init"], undefined, { uid: 65534, gid: 65534, cwd: "/" });
    expect(r.code, r.stderr).toBe(66);
    expect(r.stderr).toBe(`ingest-mail: cannot create the database ${target} as nobody: permission denied in ${sb.dir}\n`);
    expect(existsSync(join(sb.dir, "new"))).toBe(false);
  });

  // SQLite said "unable to open database file" for both: read as a busy database (75).
  it.each([
    [["list", "--db", "FOLDER"], 78, "ingest-mail: the database FOLDER is a folder, not a database file (check --db / INGEST_MAIL_DB)\n"],
    [["init", "--db", "FOLDER"], 78, "ingest-mail: the database FOLDER is a folder, not a database file (check --db / INGEST_MAIL_DB)\n"],
    [["list", "--db", ""], 64, "ingest-mail: --db needs a database: a file path (SQLite) or a postgres:// URL\n"],
    // Node's recursive mkdir of /proc/nope spun at full CPU, deaf to SIGTERM.
    [["list", "--db", "/proc/nope/x.db"], 78, "ingest-mail: the database /proc/nope/x.db is under /proc, the kernel's file system: give a path on disk (check --db / INGEST_MAIL_DB)\n"],
  ])("%j: %i, saying what is wrong", (args, code, message) => {
    const sb = sandbox();
    const r = run(sb, args.map((a) => (a === "FOLDER" ? sb.dir : a)));
    expect([r.code, r.stderr]).toEqual([code, message.replace("FOLDER", sb.dir)]);
  });

  // An MTA delivering as a user other than the database's owner (master.cf's user=, procmail's
  // owner): 75 (the MTA keeps the mail), and its log says which user, not only SQLite's "unable to
  // open database file".
  it.skipIf(!isRoot)("the MTA delivering as another user: 75, and the line names that user", () => {
    const sb = sandbox();
    chmodSync(sb.dir, 0o755);
    expect(run(sb, [], letter({})).code).toBe(0);
    const before = readdirSync(sb.dir);
    const r = run(sb, [], letter({}), { uid: 65534, gid: 65534, cwd: "/" });
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/^ingest-mail: could not store the message: nobody may not write the database or its folder \(the delivery must run as the database's owner\): .*\[SQLITE_(CANTOPEN|READONLY)[A-Z_]*\] \(database .*\); the MTA will retry\n$/);
    expect(readdirSync(sb.dir)).toEqual(before);
  });

  it("init creates it on purpose; then admin commands open it", () => {
    const sb = sandbox();
    const r = run(sb, ["init"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`database ${sb.db} is ready\n`);
    expect(mode(sb.db).toString(8)).toBe("600");
    expect(run(sb, ["list"]).stdout).toBe("no staged mail\n");
  });
});

describe.runIf(isRoot)("root is not the delivery user (point 7)", () => {
  it("import as root on a database owned by the delivery user runs as that user; later deliveries with attachments still work", () => {
    const d = desk({}, { init: false });
    chmodSync(d.dir, 0o755);
    const data = join(d.dir, "data");
    mkdirSync(data);
    chownSync(data, 65534, 65534);
    d.env.INGEST_MAIL_DB = join(data, "ingest.db");
    // The delivery user (nobody) creates the database with its first mail.
    const first = spawnSync(process.execPath, [bin, "--json"], { input: letter({}), env: d.env, uid: 65534, gid: 65534, encoding: "utf8" });
    expect(first.status, first.stderr).toBe(0);
    // The administrator, as root, imports a mail with an attachment.
    const eml = join(d.dir, "old.eml");
    writeFileSync(eml, withAttachment({ messageId: "imported@customer.example", size: 2000 }));
    chmodSync(eml, 0o644);
    const imp = run(d, ["import", eml, "--json"]);
    expect(imp.code, imp.stderr).toBe(0);
    for (const p of [join(data, "attachments"), join(data, "spool"), join(data, "ingest.db")].filter(existsSync)) expect([p, statSync(p).uid]).toEqual([p, 65534]);
    for (const f of walk(join(data, "attachments"))) expect(statSync(join(data, "attachments", f)).uid).toBe(65534);
    // The next MTA delivery with an attachment (as nobody) is stored.
    const next = spawnSync(process.execPath, [bin, "--json"], { input: withAttachment({ messageId: "later@customer.example", size: 3000 }), env: d.env, uid: 65534, gid: 65534, encoding: "utf8" });
    expect(next.status, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).status).toBe("complete");
  });
});

describe("config paths resolve against the config file's folder (point 9)", () => {
  it("run from / , ./outbox and ./att land next to the config file", () => {
    const sb = sandbox();
    const etc = join(sb.dir, "etc");
    mkdirSync(etc);
    const config = join(etc, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        ...dotCom,
        outbound: { transport: "file", dir: "./outbox", from: "service@example.test" },
        attachmentsDir: "./att",
      }),
    );
    const r = run({ ...sb, env: { ...sb.env, INGEST_MAIL_CONFIG: config } }, ["--json"], withAttachment({ messageId: "paths@customer.example", from: "dora@customer.example", size: 100 }), { cwd: "/" });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(etc, "outbox")).filter((f) => f.endsWith(".eml"))).toHaveLength(1);
    expect(walk(join(etc, "att"))).toHaveLength(1);
    expect(existsSync("/outbox/" + String(r.json().outbound[0].messageId).replace(/^<|>$/g, "") + ".eml")).toBe(false);
  });
});
