// A real Postfix on 127.0.0.1 delivers over its pipe(8) transport (examples/postfix/) to the built
// ingest-mail running as an unprivileged user. Mail is sent over SMTP; the issues are read back from
// the database; a temporary failure (database locked → exit 75) keeps the mail in Postfix's queue
// until the fault is cleared.
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { cannotRun, commandFor, freePort, INGEST_USER, install, mtaSandbox, readIf, removeCopies, script, waitFor, readDb, skipWhen, type MtaSandbox, signedIdsAddress } from "./helpers.js";

let SMTP_PORT = 0;
let skip: string | null = cannotRun;
let sb: MtaSandbox;
let started = false;

let smtp: ReturnType<typeof createTransport> | null = null;

function send(to: string, from: string, headers: Record<string, string>, body: string) {
  const raw = `${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n${body}`;
  smtp ??= createTransport({ host: "127.0.0.1", port: SMTP_PORT, secure: false, ignoreTLS: true, name: "client.test" });
  return smtp.sendMail({ envelope: { from, to: [to] }, raw });
}

const read = <T = any>(sql: string, ...params: unknown[]): T[] => readDb<T>(sb.db, sql, ...params);

const stagedByMessageId = (mid: string) => () => {
  try {
    return read("SELECT * FROM staged_mails WHERE message_id = ? AND status NOT IN ('new', 'in_process', 'workflow')", mid)[0];
  } catch {
    return undefined; // the first delivery has not created the database yet
  }
};

const queue = () =>
  spawnSync("postqueue", ["-j"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { queue_name: string; queue_id: string; recipients: { address: string; delay_reason?: string }[] });

const skipIfCannot = (ctx: TestContext) => skipWhen(skip, "postfix", ctx);

describe("Postfix pipe transport → ingest-mail (real Postfix on 127.0.0.1)", () => {
  beforeAll(async () => {
    if (skip) return;
    skip = await install();
    if (skip) return;
    sb = mtaSandbox({ busyTimeoutMs: 300 });
    SMTP_PORT = await freePort();
    const r = await script(["postfix-start"], { E2E_DIR: sb.dir, INGEST_CMD: commandFor(INGEST_USER), INGEST_USER, INGEST_DB: sb.db, INGEST_CONFIG: sb.config, SMTP_PORT: String(SMTP_PORT) });
    if (r.code === 3) {
      skip = r.out.trim();
      return;
    }
    if (r.code !== 0) throw new Error(`postfix did not start: ${r.out}`);
    started = true;
  }, 600_000);

  afterAll(async () => {
    smtp?.close();
    if (started) await script(["postfix-stop"], { E2E_DIR: sb.dir });
    removeCopies();
  });

  let uid = 0;
  let issueId = 0;

  it("mail to support@ opens an issue; envelope recipient and sender come from the pipe's argv", async (ctx) => {
    skipIfCannot(ctx);
    await send("support@example.test", "alice@customer.test", { From: "Alice Customer <alice@customer.test>", To: "support@example.test", Subject: "Printer on fire", "Message-ID": "<pf1@customer.test>" }, "It is on fire.\r\n");
    const row = await waitFor("the first mail to be processed", stagedByMessageId("<pf1@customer.test>"));
    expect(row).toMatchObject({ status: "complete", source: "stdin", envelope_recipient: "support@example.test", envelope_sender: "alice@customer.test" });
    // flags=DR: Postfix added Delivered-To and Return-Path.
    expect(row.headers).toMatch(/^Delivered-To: support@example.test/im);
    expect(row.headers).toMatch(/^Return-Path: <alice@customer.test>/im);
    const [issue] = read("SELECT i.id, i.user_identification_id AS uid, i.state FROM issues i JOIN actions a ON a.issue_id = i.id JOIN interactions n ON n.id = a.interaction_id WHERE n.id = ?", row.interaction_id);
    expect(issue.state).toBe("todo");
    uid = issue.uid;
    issueId = issue.id;
    // Postfix logs our summary line once the command has exited.
    await waitFor("Postfix to log the delivery", () => /status=sent \(delivered via ingest service \(staged \d+: complete; new CS-\d+/.test(readIf(`${sb.dir}/postfix.log`)));
  });

  it("mail to support+UID-ISSUE@ (recipient_delimiter +) is appended to that issue, matched by address-ids", async (ctx) => {
    skipIfCannot(ctx);
    expect(issueId).toBeGreaterThan(0);
    // From a colleague and without a reference in the subject: only the address ids can match it.
    await send(signedIdsAddress(uid, issueId), "bob@customer.test", { From: "Bob <bob@customer.test>", To: signedIdsAddress(uid, issueId), Subject: "More details", "Message-ID": "<pf2@customer.test>" }, "Smoke too.\r\n");
    const row = await waitFor("the second mail to be processed", stagedByMessageId("<pf2@customer.test>"));
    expect(row).toMatchObject({ status: "complete", envelope_recipient: signedIdsAddress(uid, issueId), user_identification_id: uid });
    expect(JSON.parse(row.trace)).toContainEqual(expect.objectContaining({ step: "match", decision: expect.stringMatching(/by address-ids$/) }));
    expect(read("SELECT count(*) AS n FROM actions WHERE issue_id = ?", issueId)[0].n).toBe(2);
    expect(read("SELECT count(*) AS n FROM issues")[0].n).toBe(1);
    await waitFor("Postfix to log the delivery", () => /staged \d+: complete; appended to CS-\d+ by address-ids/.test(readIf(`${sb.dir}/postfix.log`)));
  });

  it("exit 75 (database locked) leaves the mail in Postfix's queue; it lands once the lock is gone", async (ctx) => {
    skipIfCannot(ctx);
    const lock = new Database(sb.db);
    try {
      lock.exec("BEGIN EXCLUSIVE");
      lock.prepare("UPDATE issues SET updated_at = updated_at").run(); // hold the write lock
      await send("support@example.test", "carol@customer.test", { From: "Carol <carol@customer.test>", To: "support@example.test", Subject: "Locked out", "Message-ID": "<pf3@customer.test>" }, "Hello?\r\n");
      const deferred = await waitFor("Postfix to defer the mail", () => queue().find((q) => q.queue_name === "deferred"), 30_000, 200);
      expect(deferred.recipients[0].address).toBe("support@example.test");
      expect(deferred.recipients[0].delay_reason).toMatch(/temporary failure.*database is locked/);
      expect(readIf(`${sb.dir}/postfix.log`)).toMatch(/dsn=4\.3\.0, status=deferred/);
      expect(lock.prepare("SELECT count(*) AS n FROM staged_mails WHERE message_id = '<pf3@customer.test>'").get()).toEqual({ n: 0 });
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    spawnSync("postqueue", ["-f"]);
    const row = await waitFor("the deferred mail to land after postqueue -f", stagedByMessageId("<pf3@customer.test>"), 30_000);
    expect(row.status).toBe("complete");
    await waitFor("the queue to empty", () => queue().length === 0, 10_000);
    expect(read("SELECT count(*) AS n FROM staged_mails WHERE message_id = '<pf3@customer.test>'")[0].n).toBe(1);
  });
});
