// Issue 5, faults: read-only database, a locked database, an attachments or spool location that
// cannot be written, a file-size limit (the disk refusing), a corrupt config → the documented exit
// code (75 retry / 78 config), a clear message on stderr, and nothing half-written.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { bin, count, db, ingest, mail, run, sandbox, type Sandbox } from "../helpers/cli.js";
import { configured, nonDbFiles, withAttachment } from "./support.js";

const TABLES = ["staged_mails", "staged_mail_status_history", "attachments", "issues", "interactions", "actions", "user_identifications"];

function snapshot(sb: Sandbox) {
  const d = db(sb);
  const counts = Object.fromEntries(TABLES.map((t) => [t, count(d, t)]));
  d.close();
  return { counts, files: nonDbFiles(sb.dir) };
}

/** A sandbox with one mail (and one attachment) already in it, so there is something to keep. */
function populated(config: Record<string, unknown> = {}) {
  const sb = configured({ supportAddresses: ["service@example.com"], ...config });
  ingest(sb, withAttachment({ messageId: "before@x", size: 2_000 }));
  return sb;
}

const attachmentMail = () => withAttachment({ messageId: `fault-${Math.random()}@x`, size: 30_000, subject: "should not be half-written" });

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

describe("storage faults exit 75 with a clear message and leave nothing half-written", () => {
  it("read-only database", () => {
    const sb = populated();
    const before = snapshot(sb);
    let asOther = {};
    if (process.getuid?.() === 0) {
      // root ignores permission bits: run the ingest as nobody against root-owned files.
      chmodSync(sb.dir, 0o755);
      chmodSync(sb.db, 0o644);
      asOther = { uid: 65534, gid: 65534 };
    } else {
      chmodSync(sb.db, 0o444);
      chmodSync(sb.dir, 0o555);
      cleanups.push(() => chmodSync(sb.dir, 0o755));
    }
    const r = run(sb, [], attachmentMail(), asOther);
    if (!process.getuid?.()) chmodSync(sb.dir, 0o755);
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/^ingest-mail: could not store the message: .*readonly database \[SQLITE_READONLY.*\] \(database .*ingest\.db\); the MTA will retry\n$/);
    // SQLite's reason alone does not say the cause: the user may not write the file.
    expect(r.stderr).toContain(`: ${process.getuid?.() === 0 ? "nobody" : userInfo().username} may not write the database or its folder`);
    expect(r.stdout).toBe("");
    expect(snapshot(sb)).toEqual(before);
  });

  it("database locked past busyTimeoutMs (another writer holds it)", () => {
    const sb = populated({ busyTimeoutMs: 200 });
    const before = snapshot(sb);
    const holder = new Database(sb.db);
    holder.exec("BEGIN EXCLUSIVE");
    let r;
    try {
      r = run(sb, [], attachmentMail());
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/could not store the message: database is locked \[SQLITE_BUSY\] .*; the MTA will retry/);
    // The attachment was written before staging failed; it was removed again.
    expect(snapshot(sb)).toEqual(before);
  });

  // Issue 9.1: attachments are extracted after the staging commit. A folder that cannot be written
  // is no reason to make the MTA retry: the mail is staged (exit 0) and ends in `error` with the
  // reason, nothing half-recorded; resubmitted once the folder is fixed, it completes in full.
  it("attachments location that cannot exist (under a regular file): staged as error, then resubmitted", () => {
    const sb = sandbox();
    writeFileSync(join(sb.dir, "file"), "not a folder");
    const cfg = join(sb.dir, "config.json");
    writeFileSync(cfg, JSON.stringify({ attachmentsDir: join(sb.dir, "file", "sub") }));
    sb.env.INGEST_MAIL_CONFIG = cfg;
    ingest(sb, mail({ From: "a@example.com", Subject: "no attachment: fine" }));
    const before = snapshot(sb);
    const r = run(sb, ["--json"], attachmentMail());
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: "error", issues: [] });
    expect(r.json().error).toMatch(/ENOTDIR: not a directory, mkdir '.*\/file\/sub'/);
    const after = snapshot(sb);
    expect(after.counts).toMatchObject({ ...before.counts, staged_mails: before.counts.staged_mails + 1, staged_mail_status_history: before.counts.staged_mail_status_history + 3 });
    expect(after.files).toEqual(before.files);
    writeFileSync(cfg, JSON.stringify({ attachmentsDir: join(sb.dir, "attachments") }));
    const again = run(sb, ["resubmit", String(r.json().stagedId), "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ status: "complete", issues: [{ created: true }] });
    const d = db(sb);
    expect(count(d, "attachments", "staged_mail_id = ?", r.json().stagedId)).toBe(1);
    d.close();
  });

  it("attachments folder not writable: staged as error, nothing half-recorded", () => {
    if (process.getuid?.() === 0 && process.platform !== "linux") return;
    const sb = populated();
    const before = snapshot(sb);
    const attachments = join(sb.dir, "attachments");
    let asOther = {};
    if (process.getuid?.() === 0) {
      // nobody may write the database (its own copy of the folder) but not the attachments folder.
      chmodSync(sb.dir, 0o777);
      chmodSync(sb.db, 0o666);
      chmodSync(attachments, 0o755);
      asOther = { uid: 65534, gid: 65534 };
    } else {
      chmodSync(attachments, 0o555);
      cleanups.push(() => chmodSync(attachments, 0o755));
    }
    const r = run(sb, ["--json"], attachmentMail(), asOther);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().status).toBe("error");
    expect(r.json().error).toMatch(/EACCES: permission denied/);
    const after = snapshot(sb);
    for (const t of ["attachments", "issues", "interactions", "actions", "user_identifications"]) expect(after.counts[t], t).toBe(before.counts[t]);
    expect(after.files).toEqual(before.files);
  });

  it("spool location that cannot exist, for mail past inlineRawMaxBytes", () => {
    const sb = sandbox();
    writeFileSync(join(sb.dir, "file"), "");
    const cfg = join(sb.dir, "config.json");
    writeFileSync(cfg, JSON.stringify({ spoolDir: join(sb.dir, "file", "spool"), inlineRawMaxBytes: 10_000 }));
    sb.env.INGEST_MAIL_CONFIG = cfg;
    ingest(sb, mail({ From: "a@example.com", Subject: "small: fine" }));
    const before = snapshot(sb);
    const r = run(sb, [], attachmentMail());
    expect(r.code, r.stderr).toBe(75);
    // The message names the folder that cannot be made (not a clean-up's own failure).
    expect(r.stderr).toMatch(/ENOTDIR: not a directory, mkdir '.*\/file\/spool'.*; the MTA will retry/);
    expect(snapshot(sb)).toEqual(before);
  });

  it("the disk refusing to grow a file (RLIMIT_FSIZE, as a full disk would): spool write fails", () => {
    const bash = ["/bin/bash", "/usr/bin/bash"].find((p) => existsSync(p));
    if (!bash) return console.warn("skipped: no bash for ulimit");
    const sb = populated({ inlineRawMaxBytes: 50_000 });
    const before = snapshot(sb);
    // SIGXFSZ ignored so that write() fails with EFBIG instead of killing the process.
    const r = spawnSync(bash, ["-c", 'trap "" XFSZ; ulimit -f 64; exec "$0" "$@"', process.execPath, bin], {
      input: withAttachment({ messageId: "efbig@x", size: 200_000 }),
      env: sb.env,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/could not store the message: EFBIG: file too large.*\[EFBIG\]; the MTA will retry/);
    expect(snapshot(sb)).toEqual(before);
  });
});

describe("corrupt config: 75 with a message on stdin (the MTA retries), 78 without; the key named, never the contents", () => {
  it.each([
    { name: "bad JSON", text: '{"supportAddresses": ["a@b"],}', message: /config: .*config\.json is not valid JSON/ },
    { name: "unknown key", text: '{"supportAdresses": ["a@b"]}', message: /config: unknown key "supportAdresses"/ },
    { name: "unknown nested key", text: '{"limits": {"maxMessageSize": 5}}', message: /config: unknown key "limits\.maxMessageSize"/ },
    { name: "wrong type", text: '{"busyTimeoutMs": "fast"}', message: /config: "busyTimeoutMs" must be a whole number/ },
    { name: "wrong nested type", text: '{"flood": {"maxNewIssues": -1, "windowMinutes": 5}}', message: /config: "flood\.maxNewIssues" must be a whole number/ },
    { name: "not an object", text: "[]", message: /config: .*must be an object/ },
    { name: "unreadable (a folder)", text: null, message: /config: cannot read .*config\.json/ },
  ])("$name", ({ text, message }) => {
    const sb = sandbox();
    const cfg = join(sb.dir, "config.json");
    if (text === null) mkdirSync(cfg);
    else writeFileSync(cfg, text);
    sb.env.INGEST_MAIL_CONFIG = cfg;
    const r = run(sb, [], mail({ From: "a@example.com", Subject: "config" }));
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    // Issue 9.4: the MTA may quote stderr in a bounce: nothing of the file's text.
    if (text && text.length > 4) expect(r.stderr).not.toContain(text.slice(1, -1));
    // Refused before anything was opened or written.
    expect(existsSync(sb.db)).toBe(false);
    // Without a message it is the administrator's call: 78, as for any admin command.
    expect(run(sb, [], "").code).toBe(78);
    expect(run(sb, ["list"]).code).toBe(78);
  });
});
