// Issue 5, crash safety: ingest processes killed with SIGKILL at random moments. Afterwards every
// message is staged or its process exited non-zero (the MTA retries it); `recover` finishes what was
// left in new / in_process without recording anything twice, and `list` shows those as stuck.
import type { ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { count, db, ingest, mail, rows, run } from "../helpers/cli.js";
import { configured, pool, spawnIngest, walk, withAttachment, type Child } from "./support.js";

const config = { supportAddresses: ["service@example.com"], recoverAfterMinutes: 0 };
const RUNS = 100;
const BATCH = 10;

/** Every complete record has exactly one interaction and one action per issue; nothing else does. */
function assertNoDuplicatedWork(d: ReturnType<typeof db>) {
  expect(rows(d, "SELECT staged_mail_id, count(*) AS n FROM interactions GROUP BY staged_mail_id HAVING n != 1")).toEqual([]);
  expect(rows(d, "SELECT i.staged_mail_id FROM interactions i JOIN staged_mails s ON s.id = i.staged_mail_id WHERE s.status != 'complete'")).toEqual([]);
  expect(rows(d, "SELECT s.id FROM staged_mails s LEFT JOIN interactions i ON i.staged_mail_id = s.id WHERE s.status = 'complete' AND i.id IS NULL")).toEqual([]);
  expect(rows(d, "SELECT interaction_id, count(*) AS n FROM actions GROUP BY interaction_id HAVING n != 1")).toEqual([]);
  expect(rows(d, "SELECT a.id FROM actions a LEFT JOIN interactions i ON i.id = a.interaction_id WHERE i.id IS NULL")).toEqual([]);
  expect(d.$client.pragma("integrity_check", { simple: true })).toBe("ok");
}

describe("crash safety", () => {
  it(`${RUNS} ingests killed at random moments: staged or retried, then recovered without duplicates`, async () => {
    const sb = configured(config);
    const first = ingest(sb, mail({ From: "ann@example.com", To: "service@example.com", Subject: "Original" }));
    const ref = first.issues[0].reference;
    const messages = Array.from({ length: RUNS }, (_, i) =>
      i % 4 === 0
        ? withAttachment({ messageId: `crash-${i}@x`, from: `c${i}@example.org`, subject: `Crash ${i}`, size: 40_000 + i })
        : i % 4 === 1
          ? mail({ "Message-ID": `<crash-${i}@x>`, From: "ann@example.com", To: "service@example.com", Subject: `Re: [${ref}] more` })
          : mail({ "Message-ID": `<crash-${i}@x>`, From: `c${i}@example.org`, To: "service@example.com", Subject: `Crash ${i}` }),
    );

    // How long one batch takes on this machine right now, so that kills land across the whole life
    // of a process (start-up, reading, staging, workflow) rather than all before it reads stdin.
    const t0 = Date.now();
    await Promise.all(Array.from({ length: BATCH }, (_, i) => spawnIngest(sb, [], mail({ "Message-ID": `<warm-${i}@x>`, From: "w@example.org", Subject: `Warm ${i}` }))));
    const span = Math.max(150, Date.now() - t0);

    // Half the runs die at a random moment of their life (mostly while loading, where the time
    // goes); the other half a random 0–30 ms after their mail is seen staged, to land in processing.
    const watcher = new Database(sb.db, { readonly: true });
    const seen = watcher.prepare("SELECT 1 FROM staged_mails WHERE message_id = ?");
    const watched = new Map<string, ChildProcess>();
    const poll = setInterval(() => {
      for (const [id, child] of watched) {
        if (!seen.get(id)) continue;
        watched.delete(id);
        setTimeout(() => child.kill("SIGKILL"), Math.random() * 30);
      }
    }, 2);
    const results: Child[] = await pool(
      messages.map((m, i) => () =>
        // Alternating by kind too, so every kind of mail meets both kinds of kill.
        ((i % 4) + (i >> 2)) % 2
          ? spawnIngest(sb, [], m, { onSpawn: (child) => watched.set(`<crash-${i}@x>`, child) })
          : spawnIngest(sb, [], m, { killAfterMs: Math.floor(span * (0.2 + Math.random() * 1.3)) }),
      ),
      BATCH,
    );
    clearInterval(poll);
    watcher.close();
    // A process either finished (exit 0) or was killed; never 1 or 75 here.
    for (const r of results) expect(r.signal === "SIGKILL" || r.code === 0, `code ${r.code} signal ${r.signal}: ${r.stderr}`).toBe(true);
    const killed = results.filter((r) => r.signal === "SIGKILL").length;

    let d = db(sb);
    const staged = new Map(rows<{ message_id: string; status: string }>(d, "SELECT message_id, status FROM staged_mails").map((r) => [r.message_id, r.status]));
    results.forEach((r, i) => {
      // Exit 0 means staged and processed; a killed process may or may not have staged it.
      if (r.code === 0) expect(staged.get(`<crash-${i}@x>`)).toBe("complete");
    });
    assertNoDuplicatedWork(d);
    const stuck = rows<{ id: number }>(d, "SELECT id FROM staged_mails WHERE status IN ('new', 'in_process', 'workflow') ORDER BY id").map((r) => r.id);
    const killedStaged = results.filter((r, i) => r.signal === "SIGKILL" && staged.has(`<crash-${i}@x>`)).length;
    console.log(`crash: ${killed}/${RUNS} killed (window ${Math.floor(span * 0.2)}–${Math.floor(span * 1.5)} ms): ${killed - killedStaged} before staging, ${killedStaged} after, ${stuck.length} left stuck`);
    d.$client.close();

    // list marks them (stuck): recoverAfterMinutes is 0 in this config.
    const listed = run(sb, ["list", "--json", "--limit", "500"]).json().staged;
    expect(listed.filter((s: { stuck: boolean }) => s.stuck).map((s: { id: number }) => s.id).sort((a: number, b: number) => a - b)).toEqual(stuck);

    const rec = run(sb, ["recover", "--older-than", "0", "--json"]);
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.json().recovered.map((o: { stagedId: number }) => o.stagedId)).toEqual(stuck);
    d = db(sb);
    expect(count(d, "staged_mails", "status IN ('new', 'in_process', 'workflow')")).toBe(0);
    assertNoDuplicatedWork(d);
    d.$client.close();
    // recover also removed the temporary files of processes killed mid-write.
    expect(walk(sb.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);

    // The MTA retries every message whose process did not exit 0. Those that were not staged are
    // staged now; a few that were (then recovered) come back as duplicates and record nothing.
    const redeliver = results.flatMap((r, i) => (r.code === 0 ? [] : [i]));
    const notStaged = redeliver.filter((i) => !staged.has(`<crash-${i}@x>`));
    const wereStaged = redeliver.filter((i) => staged.has(`<crash-${i}@x>`)).slice(0, 5);
    const again = [...notStaged, ...wereStaged];
    const retried = await pool(
      again.map((i) => () => spawnIngest(sb, ["--json"], messages[i])),
      BATCH,
    );
    retried.forEach((r, k) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout && JSON.parse(r.stdout).status).toBe(wereStaged.includes(again[k]) ? "duplicate" : "complete");
    });
    d = db(sb);
    const byId = rows<{ message_id: string; n: number; statuses: string }>(
      d,
      "SELECT message_id, count(*) AS n, group_concat(status) AS statuses FROM staged_mails WHERE message_id LIKE '<crash-%' AND status != 'duplicate' GROUP BY message_id",
    );
    expect(byId).toHaveLength(RUNS);
    for (const r of byId) expect(r, r.message_id).toMatchObject({ n: 1, statuses: "complete" });
    assertNoDuplicatedWork(d);
    expect(count(d, "actions", "issue_id = ?", first.issues[0].issueId)).toBe(1 + RUNS / 4);
    // Every stored attachment file belongs to a record (a kill after the file, before the commit,
    // leaves a file the redelivery reuses by its hash).
    const files = walk(`${sb.dir}/attachments`).map((f) => `${sb.dir}/attachments/${f}`);
    const linked = new Set(rows<{ stored_path: string }>(d, "SELECT stored_path FROM attachments").map((r) => r.stored_path));
    expect(files.filter((f) => !linked.has(f))).toEqual([]);
    d.$client.close();
  }, 300_000);

  it("recover finishes records left in new and in_process once, even when run several times at once", async () => {
    const sb = configured(config);
    const outcomes = Array.from({ length: 12 }, (_, i) => ingest(sb, mail({ "Message-ID": `<stuck-${i}@x>`, From: `s${i}@example.org`, To: "service@example.com", Subject: `Stuck ${i}` })));
    // Put the records back where a crash leaves them: staged (new) or claimed (in_process), with the
    // work of the committed workflow not there (it commits together with `complete`).
    const d = db(sb);
    d.$client.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues;");
    d.$client.exec("UPDATE staged_mails SET status = CASE WHEN id % 2 = 0 THEN 'new' ELSE 'in_process' END, interaction_id = NULL, updated_at = '2000-01-01T00:00:00.000Z'");
    d.$client.close();

    const list = run(sb, ["list"]);
    expect(list.stdout.match(/\(stuck\)/g)).toHaveLength(12);
    expect(list.stdout).toMatch(/in_process \(stuck\)/);
    expect(list.stdout).toMatch(/new \(stuck\)/);

    const recovers = await Promise.all(Array.from({ length: 4 }, () => spawnIngest(sb, ["recover", "--older-than", "0", "--json"], "")));
    for (const r of recovers) expect(r.code, r.stderr).toBe(0);
    const d2 = db(sb);
    expect(count(d2, "staged_mails", "status = 'complete'")).toBe(12);
    expect(count(d2, "interactions")).toBe(12);
    expect(count(d2, "issues")).toBe(12);
    assertNoDuplicatedWork(d2);
    d2.$client.close();
    expect(run(sb, ["list"]).stdout).not.toMatch(/stuck/);
    expect(outcomes).toHaveLength(12);
  }, 120_000);
});
