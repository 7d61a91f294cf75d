// Issue 5: 50 ingest processes at once on one database file — every mail staged exactly once, every
// reply on its issue, no SQLITE_BUSY (all exit 0), no duplicate issues or identifications.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { count, db, ingest, mail, rows, run } from "../helpers/cli.js";
import { configured, spawnIngest } from "./support.js";
import { packageRoot } from "../../src/store/sqlite/open.js";

const config = { supportAddresses: ["service@example.com"] };

const migrations = (JSON.parse(readFileSync(join(packageRoot, "drizzle", "sqlite", "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;

describe("concurrent ingest", () => {
  it("50 simultaneous processes: new mails, replies by address ids and by subject reference, redeliveries", async () => {
    const sb = configured(config);
    const first = ingest(sb, mail({ From: "Ann Customer <ann@example.com>", To: "service@example.com", Subject: "Printer on fire" }));
    const issue = first.issues[0];
    const uid = first.userIdentificationId;

    const jobs: { kind: string; text: string; args: string[] }[] = [];
    // 15 replies through the id-carrying address (Case 1), from the customer.
    for (let i = 0; i < 15; i++)
      jobs.push({ kind: "reply-ids", args: [`service+${uid}-${issue.issueId}@example.com`], text: mail({ "Message-ID": `<ids-${i}@ann>`, From: "ann@example.com", To: `service+${uid}-${issue.issueId}@example.com`, Subject: "Re: Printer" }) });
    // 15 replies naming the reference in the subject, from the customer.
    for (let i = 0; i < 15; i++)
      jobs.push({ kind: "reply-ref", args: [], text: mail({ "Message-ID": `<ref-${i}@ann>`, From: "ann@example.com", To: "service@example.com", Subject: `Re: [${issue.reference}] Printer` }) });
    // 16 new mails from 4 senders nobody has seen: 4 identifications, 16 issues, whatever the interleaving.
    for (let i = 0; i < 16; i++)
      jobs.push({ kind: "new", args: [], text: mail({ "Message-ID": `<new-${i}@x>`, From: `New Person ${i % 4} <new${i % 4}@example.org>`, To: "service@example.com", Subject: `Question ${i}` }) });
    // 2 messages delivered twice each, concurrently with themselves.
    for (let i = 0; i < 4; i++)
      jobs.push({ kind: "redelivered", args: [], text: mail({ "Message-ID": `<twice-${i >> 1}@x>`, From: "bob@example.net", To: "service@example.com", Subject: `Twice ${i >> 1}` }) });
    expect(jobs).toHaveLength(50);

    const results = await Promise.all(jobs.map((j) => spawnIngest(sb, ["--json", ...j.args], j.text)));
    for (const r of results) expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    const outcomes = results.map((r) => JSON.parse(r.stdout));

    const d = db(sb);
    // Every mail staged exactly once: one row per message-id that is not a duplicate.
    expect(count(d, "staged_mails")).toBe(51);
    expect(rows(d, "SELECT message_id, count(*) AS n FROM staged_mails WHERE status != 'duplicate' GROUP BY message_id HAVING count(*) > 1")).toEqual([]);
    expect(count(d, "staged_mails", "status = 'complete'")).toBe(49);
    expect(count(d, "staged_mails", "status = 'duplicate'")).toBe(2);

    // Every reply on its issue, through the matcher it used.
    jobs.forEach((j, i) => {
      const o = outcomes[i];
      if (j.kind === "reply-ids") expect(o.issues).toMatchObject([{ issueId: issue.issueId, matchedBy: "address-ids", created: false }]);
      if (j.kind === "reply-ref") expect(o.issues).toMatchObject([{ issueId: issue.issueId, matchedBy: "subject-reference", created: false }]);
      if (j.kind === "new") expect(o.issues).toMatchObject([{ created: true }]);
    });
    expect(count(d, "actions", "issue_id = ?", issue.issueId)).toBe(31);

    // No duplicate issues or identifications.
    expect(count(d, "issues")).toBe(1 + 16 + 2);
    expect(rows(d, "SELECT email, count(*) AS n FROM user_identifications GROUP BY email HAVING count(*) > 1")).toEqual([]);
    expect(count(d, "user_identifications")).toBe(1 + 4 + 1);
    expect(rows(d, "SELECT reference, count(*) AS n FROM issues GROUP BY reference HAVING count(*) > 1")).toEqual([]);
    // One interaction per processed mail, one action per interaction here.
    expect(count(d, "interactions")).toBe(50 - 2 + 1);
    expect(rows(d, "SELECT staged_mail_id, count(*) AS n FROM interactions GROUP BY staged_mail_id HAVING count(*) > 1")).toEqual([]);
    expect(count(d, "actions")).toBe(49);
    d.close();
  }, 180_000);

  it("many processes on a fresh database path race the migrations and all succeed", async () => {
    const sb = configured(config);
    sb.env.INGEST_MAIL_DB = `${sb.dir}/fresh/nested/ingest.db`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => spawnIngest(sb, ["--json"], mail({ "Message-ID": `<fresh-${i}@x>`, From: `p${i}@example.org`, To: "service@example.com", Subject: `Fresh ${i}` }))),
    );
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const l = run(sb, ["list", "--json"]);
    expect(l.code).toBe(0);
    expect(l.json().staged.map((s: { status: string }) => s.status)).toEqual(Array(20).fill("complete"));
    const d = db({ ...sb, db: `${sb.dir}/fresh/nested/ingest.db` });
    // Each migration applied exactly once, however many processes raced to apply them.
    expect(count(d, "__drizzle_migrations")).toBe(migrations);
    expect(count(d, "issues")).toBe(20);
    d.close();
  }, 120_000);

  // Two deliveries to a database that does not exist yet: switching it to WAL answered SQLITE_BUSY
  // at once (no busy handler) to the second one, in about 1 run of 5 (exit 75, the MTA retrying).
  it("two deliveries creating the same database at once: both staged, 15 times over", async () => {
    for (let round = 0; round < 15; round++) {
      const sb = configured(config);
      sb.env.INGEST_MAIL_DB = `${sb.dir}/fresh-${round}/ingest.db`;
      const results = await Promise.all([0, 1].map((k) => spawnIngest(sb, ["--json"], mail({ "Message-ID": `<pair-${round}-${k}@x>`, From: `q${k}@example.org`, To: "service@example.com", Subject: `Pair ${k}` }))));
      for (const r of results) expect({ round, code: r.code, stderr: r.stderr }).toEqual({ round, code: 0, stderr: "" });
    }
  }, 120_000);
});
