// The real procmail runs .procmailrc.example (as the unprivileged ingest user): "$1" is the envelope
// recipient, and ingest-mail's exit code (0 / 75) comes back as procmail's own, so the MTA that
// called procmail keeps a mail that could not be stored.
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { mail } from "../helpers/cli.js";
import { cannotRun, commandFor, INGEST_USER, install, mtaSandbox, removeCopies, script, readDb, skipWhen, type MtaSandbox, signedIdsAddress } from "./helpers.js";

let skip: string | null = cannotRun;
let sb: MtaSandbox;
let rcfile = "";

function procmail(recipient: string, message: string) {
  // procmail -m RCFILE ARG: ARG is $1 in the rcfile (how an MTA's mailbox_command passes it).
  // No INGEST_MAIL_* in the environment: procmail clears it, the rcfile names the database.
  const r = spawnSync("runuser", ["-u", INGEST_USER, "--", "procmail", "-m", rcfile, recipient], { input: message, env: { PATH: process.env.PATH, HOME: sb.dataDir }, encoding: "utf8", cwd: "/" });
  return { code: r.status, stderr: r.stderr };
}

const read = <T = any>(sql: string, ...params: unknown[]): T[] => readDb<T>(sb.db, sql, ...params);

const skipIfCannot = (ctx: TestContext) => skipWhen(skip, "procmail", ctx);

describe("procmail → ingest-mail with .procmailrc.example (real procmail)", () => {
  beforeAll(async () => {
    if (skip) return;
    skip = await install();
    if (skip) return;
    sb = mtaSandbox({ busyTimeoutMs: 300 });
    const r = await script(["procmailrc"], { E2E_DIR: sb.dir, INGEST_CMD: commandFor(INGEST_USER), INGEST_DB: sb.db, INGEST_CONFIG: sb.config });
    if (r.code !== 0) throw new Error(`cannot write the procmail rcfile: ${r.out}`);
    rcfile = join(sb.dir, "procmailrc");
  }, 600_000);

  afterAll(() => removeCopies());

  let uid = 0;
  let issueId = 0;

  it("exit 0: the first mail opens an issue, $1 is recorded as the envelope recipient", (ctx) => {
    skipIfCannot(ctx);
    const r = procmail("support@example.test", mail({ From: "Dana <dana@customer.test>", To: "help@customer-facing.test", Subject: "Login broken", "Message-ID": "<pm1@customer.test>" }));
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/ingest-mail|failure/i); // procmail may complain about the user's home folder only
    const [row] = read("SELECT status, source, envelope_recipient, user_identification_id AS uid, interaction_id FROM staged_mails WHERE message_id = '<pm1@customer.test>'");
    expect(row).toMatchObject({ status: "complete", source: "stdin", envelope_recipient: "support@example.test" });
    uid = row.uid;
    issueId = read("SELECT issue_id FROM actions WHERE interaction_id = ?", row.interaction_id)[0].issue_id;
  });

  it("$1 = support+UID-ISSUE@: appended to that issue by address-ids", (ctx) => {
    skipIfCannot(ctx);
    const r = procmail(signedIdsAddress(uid, issueId), mail({ From: "Eve <eve@customer.test>", To: "support@example.test", Subject: "Same problem here", "Message-ID": "<pm2@customer.test>" }));
    expect(r.code).toBe(0);
    const [row] = read("SELECT status, trace FROM staged_mails WHERE message_id = '<pm2@customer.test>'");
    expect(row.status).toBe("complete");
    expect(JSON.parse(row.trace)).toContainEqual(expect.objectContaining({ step: "match", decision: expect.stringMatching(/by address-ids$/) }));
    expect(read("SELECT count(*) AS n FROM actions WHERE issue_id = ?", issueId)[0].n).toBe(2);
  });

  it("exit 75 passes through procmail when the database is locked; nothing is staged; a retry lands", (ctx) => {
    skipIfCannot(ctx);
    const message = mail({ From: "Finn <finn@customer.test>", To: "support@example.test", Subject: "Retry me", "Message-ID": "<pm3@customer.test>" });
    const lock = new Database(sb.db);
    let locked;
    try {
      lock.exec("BEGIN EXCLUSIVE");
      lock.prepare("UPDATE issues SET updated_at = updated_at").run();
      locked = procmail("support@example.test", message);
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    expect(locked.code).toBe(75);
    expect(read("SELECT count(*) AS n FROM staged_mails WHERE message_id = '<pm3@customer.test>'")[0].n).toBe(0);
    expect(procmail("support@example.test", message).code).toBe(0);
    expect(read("SELECT status FROM staged_mails WHERE message_id = '<pm3@customer.test>'")).toEqual([{ status: "complete" }]);
  });
});
