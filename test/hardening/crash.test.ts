// Crash safety (issues 5 and 9): ingest processes killed with SIGKILL at random moments. Every
// message is staged or its process exited non-zero (the MTA retries it); a redelivery finishes a
// record its killed process left `new`, and `recover` finishes what was left without recording
// anything twice; `list` shows those as stuck.
import { describe, expect, it } from "vitest";
import { count, db, ingest, mail, rows, run } from "../helpers/cli.js";
import { configured, pool, spawnIngest, walk, withAttachment, type Child } from "./support.js";

const config = { supportAddresses: ["service@example.com"], recoverAfterMinutes: 0 };
const RUNS = 100;
const BATCH = 10;

/** Every complete record has exactly one interaction and one action per issue; nothing else does. */
function assertNoDuplicatedWork(d: ReturnType<typeof db>) {
  expect(rows(d, "SELECT staged_mail_id, count(*) AS n FROM interactions GROUP BY staged_mail_id HAVING count(*) != 1")).toEqual([]);
  expect(rows(d, "SELECT i.staged_mail_id FROM interactions i JOIN staged_mails s ON s.id = i.staged_mail_id WHERE s.status != 'complete'")).toEqual([]);
  expect(rows(d, "SELECT s.id FROM staged_mails s LEFT JOIN interactions i ON i.staged_mail_id = s.id WHERE s.status = 'complete' AND i.id IS NULL")).toEqual([]);
  expect(rows(d, "SELECT interaction_id, count(*) AS n FROM actions GROUP BY interaction_id HAVING count(*) != 1")).toEqual([]);
  expect(rows(d, "SELECT a.id FROM actions a LEFT JOIN interactions i ON i.id = a.interaction_id WHERE i.id IS NULL")).toEqual([]);
  if (d.engine === "sqlite") expect(rows(d, "PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
}

/** HTML-only mail of nested tables: each takes html-to-text a noticeable time to convert. */
function slowToParse(i: number, ref: string): string {
  const cell = (n: number) => `<table><tr><td><div><span>cell ${n} of mail ${i}</span></div></td></tr></table>`;
  const html = `<html><body>${Array.from({ length: 900 }, (_, n) => cell(n)).join("")}</body></html>`;
  const subject = i % 4 === 1 ? `Re: [${ref}] more` : `Crash ${i}`;
  const from = i % 4 === 1 ? "ann@example.com" : `c${i}@example.org`;
  return mail({ "Message-ID": `<crash-${i}@x>`, From: from, To: "service@example.com", Subject: subject, "MIME-Version": "1.0", "Content-Type": "text/html; charset=utf-8" }, html);
}

describe("crash safety", () => {
  // Issue 9, proof: kill -9 at random points of 100 deliveries of mails that are slow to parse, then
  // retry MTA-style until exit 0, with no `recover` run: every mail complete, none twice. A kill
  // after the staging commit leaves the record `new`; the redelivery takes it over (issue 9.6).
  it(`${RUNS} deliveries killed at random moments, retried until exit 0: every mail complete once, no recover needed`, async () => {
    const sb = configured({ ...config, recoverAfterMinutes: 10 });
    const first = ingest(sb, mail({ From: "ann@example.com", To: "service@example.com", Subject: "Original" }));
    const ref = first.issues[0].reference;
    const messages = Array.from({ length: RUNS }, (_, i) => (i % 4 === 0 ? withAttachment({ messageId: `crash-${i}@x`, from: `c${i}@example.org`, subject: `Crash ${i}`, size: 40_000 + i }) : slowToParse(i, ref)));

    // How long one delivery of these takes on this machine now, so kills land over a whole life.
    const t0 = Date.now();
    await Promise.all(Array.from({ length: BATCH }, (_, i) => spawnIngest(sb, [], slowToParse(1000 + 4 * i, ref).replace(/crash-/g, "warm-"))));
    const span = Math.max(200, Date.now() - t0);

    let kills = 0;
    let retries = 0;
    const deliver = async (i: number) => {
      // The first attempt is killed at a random moment; the MTA then retries until exit 0.
      let r = await spawnIngest(sb, ["--json"], messages[i], { killAfterMs: Math.floor(span * Math.random() * 1.2) });
      if (r.signal === "SIGKILL") kills++;
      for (let attempt = 0; r.code !== 0 && attempt < 5; attempt++) {
        expect(r.signal === "SIGKILL" || r.code === 75, `code ${r.code} signal ${r.signal}: ${r.stderr}`).toBe(true);
        retries++;
        r = await spawnIngest(sb, ["--json"], messages[i]);
      }
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { status: string; trace: { decision: string }[] };
    };
    const outcomes = await pool(
      messages.map((_, i) => () => deliver(i)),
      BATCH,
    );
    const tookOver = outcomes.filter((o) => o.trace.some((t) => /^redelivery finishes staged mail/.test(t.decision))).length;
    console.log(`crash (stage first): ${kills}/${RUNS} first deliveries killed (window 0–${Math.floor(span * 1.2)} ms), ${retries} retries, ${tookOver} redeliveries finished a staged original`);

    const d = db(sb);
    const byId = rows<{ message_id: string; n: number; statuses: string }>(
      d,
      "SELECT message_id, count(*) AS n, group_concat(status) AS statuses FROM staged_mails WHERE message_id LIKE '<crash-%' AND status != 'duplicate' GROUP BY message_id",
    );
    expect(byId).toHaveLength(RUNS);
    for (const r of byId) expect(r, r.message_id).toMatchObject({ n: 1, statuses: "complete" });
    expect(count(d, "staged_mails", "status = 'new'")).toBe(0);
    assertNoDuplicatedWork(d);
    expect(count(d, "actions", "issue_id = ?", first.issues[0].issueId)).toBe(1 + RUNS / 4);
    // Every stored attachment file a record points to exists.
    for (const f of rows<{ stored_path: string }>(d, "SELECT stored_path FROM attachments").map((r) => r.stored_path)) expect(walk(sb.dir).some((w) => f.endsWith(w))).toBe(true);
    d.close();
  }, 300_000);

  it("recover finishes records left in new and in_process once, even when run several times at once", async () => {
    const sb = configured(config);
    const outcomes = Array.from({ length: 12 }, (_, i) => ingest(sb, mail({ "Message-ID": `<stuck-${i}@x>`, From: `s${i}@example.org`, To: "service@example.com", Subject: `Stuck ${i}` })));
    // Put the records back where a crash leaves them: staged (new) or claimed (in_process), with the
    // work of the committed workflow not there (it commits together with `complete`).
    const d = db(sb);
    d.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues;");
    d.exec("UPDATE staged_mails SET status = CASE WHEN id % 2 = 0 THEN 'new' ELSE 'in_process' END, interaction_id = NULL, updated_at = '2000-01-01T00:00:00.000Z'");
    d.close();

    const list = run(sb, ["list"]);
    expect(list.stdout.match(/\(stuck\)/g)).toHaveLength(12);
    expect(list.stdout).toMatch(/in_process \(stuck\)/);
    expect(list.stdout).toMatch(/new \(stuck\)/);

    const recovers = await Promise.all(Array.from({ length: 4 }, () => spawnIngest(sb, ["recover", "--older-than", "0", "--json"], "")));
    for (const r of recovers) expect(r.code, r.stderr).toBe(0);
    const d2 = db(sb);
    expect(rows(d2, "SELECT id, status, error, claimed_by FROM staged_mails WHERE status != 'complete'")).toEqual([]);
    expect(count(d2, "staged_mails", "status = 'complete'")).toBe(12);
    expect(count(d2, "interactions")).toBe(12);
    expect(count(d2, "issues")).toBe(12);
    assertNoDuplicatedWork(d2);
    d2.close();
    expect(run(sb, ["list"]).stdout).not.toMatch(/stuck/);
    expect(outcomes).toHaveLength(12);
  }, 120_000);
});
