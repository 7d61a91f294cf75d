// doctor's decisions (src/doctor/checks.ts), as tables: facts in, pass / warn / fail out.
import { describe, expect, it } from "vitest";
import {
  configCheck,
  databaseCheck,
  diskCheck,
  fileCheck,
  folderCheck,
  forbiddenBits,
  healthy,
  logFileCheck,
  printable,
  schemaCheck,
  secretCheck,
  sendmailCheck,
  smtpCheck,
  stuckCheck,
  outboxCheck,
  type PathFacts,
} from "../../src/doctor/checks.js";
import { sharedFolder } from "../../src/doctor/places.js";

const user = { name: "ingest-mail", uid: 998, gid: 998 };
const dir = (over: Partial<PathFacts> = {}): PathFacts => ({ path: "/var/lib/ingest-mail/attachments", exists: true, isSymlink: false, isDir: true, uid: 998, mode: 0o40700, writable: true, parentWritable: true, ...over });
const file = (over: Partial<PathFacts> = {}): PathFacts => dir({ path: "/var/lib/ingest-mail/ingest-mail.db", isDir: false, mode: 0o100600, ...over });
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("doctor checks", () => {
  it.each([
    ["private, owned, writable", dir(), "pass", /0700, ingest-mail/],
    ["missing, parent writable: created on first use", dir({ exists: false }), "warn", /created on first use/],
    ["missing, parent not writable", dir({ exists: false, parentWritable: false }), "fail", /cannot create it/],
    ["a file where the folder should be", dir({ isDir: false }), "fail", /not a folder/],
    ["not writable by the delivery user", dir({ writable: false }), "fail", /not writable by ingest-mail/],
    ["owned by someone else", dir({ uid: 0 }), "warn", /owned by uid 0/],
    ["world-readable", dir({ mode: 0o40755 }), "warn", /mode 0755/],
    ["group-readable", dir({ mode: 0o40750 }), "warn", /mode 0750/],
    ["a symbolic link", dir({ isSymlink: true }), "warn", /symbolic link/],
  ])("folder: %s → %s", (_name, facts, status, detail) => {
    const r = folderCheck("folder:attachments", facts, user);
    expect(r.status).toBe(status);
    expect(r.detail).toMatch(detail);
    expect(r.fix === null).toBe(status === "pass");
  });

  it("the fix for a folder names the path and the user", () => {
    expect(folderCheck("f", dir({ exists: false }), user).fix).toBe("install -d -m 0700 -o ingest-mail /var/lib/ingest-mail/attachments");
    expect(folderCheck("f", dir({ mode: 0o40755 }), user).fix).toBe("chmod 700 /var/lib/ingest-mail/attachments");
  });

  it.each([
    [undefined, 0o077, 0o077],
    ["0600", 0o077, 0o077],
    ["0640", 0o037, 0o027],
    ["0660", 0o017, 0o007],
    ["bogus", 0o077, 0o077],
  ])("fileMode %j forbids file bits %o and folder bits %o", (mode, file, dir) => {
    expect(forbiddenBits(mode)).toEqual({ file, dir });
  });

  it("a group-shared fileMode accepts a 0750 folder and asks for it when wider", () => {
    const shared = forbiddenBits("0640");
    expect(folderCheck("f", dir({ mode: 0o40750 }), user, shared.dir).status).toBe("pass");
    expect(folderCheck("f", dir({ mode: 0o40755 }), user, shared.dir)).toMatchObject({ status: "warn", fix: "chmod 750 /var/lib/ingest-mail/attachments" });
    expect(fileCheck("f", file({ mode: 0o100644 }), user, shared.file)).toMatchObject({ status: "warn", fix: "chmod 640 /var/lib/ingest-mail/ingest-mail.db" });
  });

  it("root as the delivery user: ownership is not held against it", () => {
    expect(folderCheck("f", dir({ uid: 5 }), { name: "root", uid: 0, gid: 0 }).status).toBe("pass");
  });

  it.each([
    ["0600, owned", file(), "pass"],
    ["missing (not created yet)", file({ exists: false }), "pass"],
    ["0644", file({ mode: 0o100644 }), "warn"],
    ["read-only for the user", file({ writable: false }), "fail"],
    ["someone else's", file({ uid: 0 }), "warn"],
  ])("file: %s → %s", (_name, facts, status) => {
    expect(fileCheck("file:database", facts, user).status).toBe(status);
  });

  it.each([
    [{ exists: false, error: null, userVersion: null }, dir({ path: "/var/lib/ingest-mail" }), "warn"],
    [{ exists: false, error: null, userVersion: null }, dir({ path: "/var/lib/ingest-mail", exists: false, writable: false, parentWritable: false }), "fail"],
    [{ exists: false, error: null, userVersion: null }, dir({ path: "/var/lib/ingest-mail", writable: false }), "fail"],
    [{ exists: true, error: "unable to open database file", userVersion: null }, dir(), "fail"],
    [{ exists: true, error: null, userVersion: 2 }, dir(), "pass"],
    [{ exists: true, error: null, userVersion: 2, size: 8192, tables: ["staged_mails", "issues"] }, dir(), "pass"],
    [{ exists: true, error: null, userVersion: 0, size: 0, tables: [] }, dir(), "fail"],
    [{ exists: true, error: null, userVersion: 0, size: 8192, tables: ["customers"] }, dir(), "fail"],
  ])("database %j in %j → %s", (facts, folder, status) => {
    expect(databaseCheck({ path: "/var/lib/ingest-mail/ingest-mail.db", ...facts }, folder, user).status).toBe(status);
  });

  it.each([
    [2, 2, "pass"],
    [1, 2, "warn"],
    [0, 2, "warn"],
    [3, 2, "fail"],
    [null, 2, "warn"],
  ])("schema %s of %s → %s", (have, want, status) => {
    expect(schemaCheck(have, want).status).toBe(status);
  });

  it.each([
    [{ path: "/usr/sbin/sendmail", exists: true, executable: true }, true, "pass"],
    [{ path: "/usr/sbin/sendmail", exists: false, executable: false }, true, "fail"],
    [{ path: "/usr/sbin/sendmail", exists: true, executable: false }, true, "fail"],
    [{ path: "/usr/sbin/sendmail", exists: false, executable: false }, false, "warn"],
  ])("sendmail %j (used: %s) → %s", (facts, used, status) => {
    expect(sendmailCheck(facts, used).status).toBe(status);
  });

  it.each([
    [{ code: 220, text: "relay ESMTP" }, true, "pass"],
    [{ code: 554, text: "go away" }, true, "fail"],
    [{ code: null, text: "ECONNREFUSED" }, true, "fail"],
    [{ code: null, text: "" }, true, "fail"],
    [{ code: null, text: "ECONNREFUSED" }, false, "warn"],
  ])("smtp greeting %j (used: %s) → %s", (facts, used, status) => {
    expect(smtpCheck({ target: "127.0.0.1:25", ms: 3, ...facts }, used, 5000).status).toBe(status);
  });

  it.each([
    [true, null, "pass"],
    [false, null, "warn"],
    [false, { name: "signing_secrets", rows: 1 }, "pass"],
    [false, { name: "signing_secrets", rows: 0 }, "warn"],
  ])("signing secret: configured %s, table %j → %s", (configured, table, status) => {
    expect(secretCheck(configured, table).status).toBe(status);
  });

  it.each([
    [0, "pass"],
    [3, "warn"],
  ])("stuck records %s → %s, failed outbox %s → %s", (n, status) => {
    expect(stuckCheck(n, 10).status).toBe(status);
    expect(outboxCheck(n).status).toBe(status);
  });

  it("failed outgoing mail past the retry limit is named", () => {
    expect(outboxCheck(3, 1, [7]).detail).toBe("3 outgoing mail(s) failed (1 past the retry limit: only outbox retry ID sends them)");
  });

  // `outbox retry` without ids leaves rows past the retry limit alone: the fix names them.
  it.each([
    [2, 0, [], "ingest-mail outbox list; fix the transport (see outbound), then ingest-mail outbox retry"],
    [2, 2, [4, 9], "fix the transport (see outbound), then ingest-mail outbox retry 4 9"],
    [3, 1, [9], "fix the transport (see outbound), then ingest-mail outbox retry (the 2 with attempts left) and ingest-mail outbox retry 9"],
    [30, 25, [1, 2], "fix the transport (see outbound), then ingest-mail outbox retry (the 5 with attempts left) and ingest-mail outbox retry ID… (the first: 1 2; ingest-mail outbox list shows the rest)"],
  ])("%s failed, %s past the limit (ids %j): fix %j", (failed, gaveUp, ids, fix) => {
    expect(outboxCheck(failed, gaveUp, ids)).toMatchObject({ status: "warn", fix });
  });

  it.each([
    [50 * GiB, 100 * GiB, 100 * MiB, "pass"],
    [5 * GiB, 100 * GiB, 100 * MiB, "warn"], // under 10 %
    [900 * MiB, 2 * GiB, 100 * MiB, "warn"], // under 1 GiB
    [50 * MiB, 1 * GiB, 10 * MiB, "fail"], // under 100 MiB
    [1.5 * GiB, 100 * GiB, 100 * MiB, "fail"], // under 2 %
    [300 * MiB, 1 * GiB, 500 * MiB, "fail"], // a largest message would not fit
  ])("disk: %d free of %d, messages up to %d → %s", (free, total, max, status) => {
    expect(diskCheck("/var/lib/ingest-mail", free, total, max).status).toBe(status);
  });

  it.each([
    [{ file: "/etc/ingest-mail/config.json", label: "system file", error: null, problem: null }, "pass", "/etc/ingest-mail/config.json (system file)"],
    [{ file: null, label: "built-in defaults (no file found)", error: null, problem: null }, "warn", "built-in defaults (no file found)"],
    [{ file: "/c.json", label: "--config", error: 'config: unknown key "x"', problem: null }, "fail", 'config: unknown key "x" (the other checks use the built-in defaults)'],
    [{ file: "/c.json", label: "--config", error: null, problem: { key: "outbound.url", message: "is required" } }, "fail", '/c.json (--config): "outbound.url" is required'],
  ])("config %j → %s", (facts, status, detail) => {
    expect(configCheck(facts)).toMatchObject({ status, detail });
  });

  it("healthy only when nothing fails", () => {
    const p = { id: "a", status: "pass" as const, detail: "", fix: null };
    expect(healthy([p, { ...p, status: "warn" }])).toBe(true);
    expect(healthy([p, { ...p, status: "fail" }])).toBe(false);
  });

  it("server text is printed without control characters", () => {
    expect(printable("ESMTP \u001b]0;pwned\u0007 ready\u202e")).toBe("ESMTP  ]0;pwned  ready");
  });

  // QA: a fix line is pasted as root. It may chmod or chown a folder made for ingest-mail, never a
  // shared one (places.ts): the log then gets a file of its own, anything else a folder of its own.
  const nobody = { name: "nobody", uid: 65534, gid: 65534 };
  const root = { name: "root", uid: 0, gid: 0 };
  const sys = (path: string, over: Partial<PathFacts> = {}) => dir({ path, uid: 0, mode: 0o40755, writable: false, ...over });

  it.each([
    ["/var/log", sys("/var/log"), nobody, true, "a system folder"],
    ["/var/log/ (trailing slash)", sys("/var/log/"), nobody, true, "a system folder"],
    ["/ ", sys("/"), root, false, "a system folder"],
    ["/proc", sys("/proc", { mode: 0o40555 }), root, true, "the kernel's /proc"],
    ["a folder under /sys", sys("/sys/kernel/x", { exists: false }), root, true, "the kernel's /sys"],
    ["/tmp", sys("/tmp", { mode: 0o41777, writable: true }), nobody, false, "a system folder"],
    ["a sticky folder", sys("/srv/drop", { mode: 0o41777, writable: true }), nobody, true, "a folder every user may write to"],
    ["someone else's, holding our files among others", sys("/srv/helpdesk"), nobody, true, "owned by uid 0, not nobody"],
    ["another user's, for root", sys("/home/alice", { uid: 1000 }), root, true, "owned by uid 1000, not root"],
    ["someone else's attachments folder (ours by what it is for)", sys("/srv/helpdesk/attachments"), nobody, false, null],
    ["root's, for root", sys("/srv/helpdesk"), root, true, null],
    ["the user's own", dir({ path: "/srv/helpdesk" }), user, true, null],
    ["named ingest-mail, whoever owns it", sys("/var/lib/ingest-mail"), nobody, true, null],
    ["not there yet", dir({ path: "/var/log/ingest-mail", exists: false }), nobody, true, null],
  ])("shared folder: %s → %s", (_name, facts, who, holdsOthers, reason) => {
    expect(sharedFolder(facts, who, holdsOthers)).toBe(reason);
  });

  it.each([
    // The QA findings: logFile /var/log/ingest-mail.log as root, as nobody, and under /proc.
    ["log folder /var/log, root", "folder:log", sys("/var/log", { writable: true }), root, "pass", null],
    ["log folder /var/log, nobody", "folder:log", sys("/var/log"), nobody, "pass", null],
    ["log folder /proc", "folder:log", sys("/proc", { mode: 0o40555 }), root, "pass", null],
    ["log folder of its own, 0755", "folder:log", dir({ path: "/var/log/ingest-mail", uid: 65534, mode: 0o40755 }), nobody, "warn", "chmod 700 /var/log/ingest-mail"],
    ["log folder of its own, missing", "folder:log", dir({ path: "/var/log/ingest-mail", exists: false, parentWritable: false }), nobody, "fail", "install -d -m 0700 -o nobody /var/log/ingest-mail"],
    ["database folder /var/lib", "folder:database", sys("/var/lib", { writable: true }), root, "warn", "install -d -m 0700 -o root /var/lib/ingest-mail, and keep the database there (INGEST_MAIL_DB=/var/lib/ingest-mail/ingest-mail.db; move an existing one with its -wal and -shm)"],
    ["database folder of someone else's", "folder:database", sys("/srv/helpdesk"), nobody, "fail", "install -d -m 0700 -o nobody /var/lib/ingest-mail, and keep the database there (INGEST_MAIL_DB=/var/lib/ingest-mail/ingest-mail.db; move an existing one with its -wal and -shm)"],
    ["database folder /var/lib/ingest-mail made by root", "folder:database", sys("/var/lib/ingest-mail"), nobody, "fail", "chown -R nobody /var/lib/ingest-mail"],
    ["spool in /tmp", "folder:spool", sys("/tmp", { mode: 0o41777, writable: true }), nobody, "warn", "install -d -m 0700 -o nobody /var/lib/ingest-mail/spool, and set spoolDir to it"],
    ["attachments under /proc", "folder:attachments", sys("/proc/a", { exists: false }), root, "fail", "install -d -m 0700 -o root /var/lib/ingest-mail/attachments, and set attachmentsDir to it"],
  ])("folder: %s → %s, fix %j", (_name, id, facts, who, status, fix) => {
    expect(folderCheck(id, facts, who)).toMatchObject({ status, fix });
  });

  const logFile = (path: string, over: Partial<PathFacts> = {}) => file({ path, exists: false, writable: false, ...over });
  it.each([
    ["missing in /var/log, root may create it", logFile("/var/log/ingest-mail.log"), sys("/var/log", { writable: true }), root, "pass", null],
    ["missing in /var/log, nobody may not", logFile("/var/log/ingest-mail.log"), sys("/var/log"), nobody, "fail", "install -o nobody -m 600 /dev/null /var/log/ingest-mail.log"],
    ["there, nobody's, 0600", logFile("/var/log/ingest-mail.log", { exists: true, writable: true, uid: 65534 }), sys("/var/log"), nobody, "pass", null],
    ["there, root's", logFile("/var/log/ingest-mail.log", { exists: true, uid: 0, mode: 0o100644 }), sys("/var/log"), nobody, "fail", "chown nobody /var/log/ingest-mail.log"],
    ["missing in /tmp (sticky, writable)", logFile("/tmp/ingest-mail.log"), sys("/tmp", { mode: 0o41777, writable: true }), nobody, "pass", null],
    ["under /proc", logFile("/proc/ingest-mail.log"), sys("/proc", { mode: 0o40555, writable: true }), root, "fail", "install -d -m 0700 -o root /var/log/ingest-mail, and set logFile to /var/log/ingest-mail/ingest-mail.log"],
    ["missing in a folder of its own", logFile("/var/log/ingest-mail/ingest-mail.log"), dir({ path: "/var/log/ingest-mail", uid: 65534 }), nobody, "pass", null],
  ])("log file: %s → %s, fix %j", (_name, facts, folder, who, status, fix) => {
    expect(logFileCheck(facts, folder, who)).toMatchObject({ status, fix });
  });

  it("the database in a shared folder nobody may write: a folder of its own, not a chown of the shared one", () => {
    const r = databaseCheck({ path: "/var/lib/x.db", exists: false, error: null, userVersion: null }, sys("/var/lib"), nobody);
    expect(r).toMatchObject({ status: "fail", fix: expect.stringMatching(/^install -d -m 0700 -o nobody \/var\/lib\/ingest-mail,/) });
  });

  // QA: a read-only file the user owns needs its write bit back, not a chown to the owner it has.
  it.each([
    ["owned, 0444", file({ mode: 0o100444, writable: false }), user, "chmod 600 /var/lib/ingest-mail/ingest-mail.db"],
    ["owned, 0400, group-shared fileMode", file({ mode: 0o100400, writable: false }), user, "chmod 640 /var/lib/ingest-mail/ingest-mail.db", forbiddenBits("0640").file],
    ["someone else's, 0644", file({ uid: 0, mode: 0o100644, writable: false }), user, "chown ingest-mail /var/lib/ingest-mail/ingest-mail.db"],
    ["someone else's, 0444", file({ uid: 0, mode: 0o100444, writable: false }), user, "chown ingest-mail /var/lib/ingest-mail/ingest-mail.db && chmod 600 /var/lib/ingest-mail/ingest-mail.db"],
    ["owned, 0600, still not writable", file({ writable: false }), user, expect.stringContaining("read-only whatever its owner and mode: check the mount")],
    ["root, not writable", file({ uid: 0, writable: false }), root, expect.stringContaining("read-only whatever its owner and mode")],
  ])("file not writable: %s → %s", (_name, facts, who, fix, forbidden?: number) => {
    expect(fileCheck("file:database", facts, who, forbidden)).toMatchObject({ status: "fail", fix });
  });

  it.each([
    ["owned, 0500", dir({ mode: 0o40500, writable: false }), "chmod 700 /var/lib/ingest-mail/attachments"],
    ["someone else's, 0700", dir({ uid: 0, writable: false }), "chown -R ingest-mail /var/lib/ingest-mail/attachments"],
  ])("folder not writable: %s → %s", (_name, facts, fix) => {
    expect(folderCheck("folder:attachments", facts, user)).toMatchObject({ status: "fail", fix });
  });

  it("no fix line changes a shared folder, writable or not, for nobody or root", () => {
    const shared = ["/", "/var", "/var/log", "/var/lib", "/tmp", "/proc", "/etc", "/usr", "/home", "/srv/helpdesk"]; // the last: uid 1000's
    const fixes = [
      ...[["folder:log", "/var/log"], ["folder:log", "/proc"], ["folder:database", "/var/lib"], ["folder:database", "/srv/helpdesk"], ["folder:spool", "/tmp"], ["folder:attachments", "/etc"], ["folder:outbox", "/usr"], ["folder:database", "/home"], ["folder:log", "/"], ["folder:database", "/var"]].flatMap(([id, path]) =>
        [nobody, root].flatMap((who) => [true, false].map((writable) => folderCheck(id, sys(path, { writable, uid: 1000 }), who).fix)),
      ),
      ...[nobody, root].map((who) => logFileCheck(logFile("/var/log/x.log"), sys("/var/log"), who).fix),
    ];
    for (const fix of fixes) for (const path of shared) expect(fix ?? "", `${fix}`).not.toMatch(new RegExp(`(chmod|chown)( -R)? \\S+ ${path}( |$)|install -d .* ${path}( |,|$)`));
  });
});

