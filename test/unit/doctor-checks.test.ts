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
  printable,
  schemaCheck,
  secretCheck,
  sendmailCheck,
  smtpCheck,
  stuckCheck,
  outboxCheck,
  type PathFacts,
} from "../../src/doctor/checks.js";

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
    expect(outboxCheck(3, 1).detail).toBe("3 outgoing mail(s) failed (1 past the retry limit: only outbox retry ID sends them)");
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
});
