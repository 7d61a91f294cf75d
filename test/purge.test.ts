// Issue 14 point 3: retention (`purge --older-than`, the `retention` key, purgeOnce) and erasure of one
// person (`purge --email`). Erased bytes must survive neither in the database files (main file and
// WAL) nor on disk; content-hashed files shared with remaining records stay.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../src/cli/context.js";
import { purgeOnce } from "../src/maintenance/purge.js";
import { count, db, mail, rows, runAsync, storedExists, type Sandbox } from "./helpers/cli.js";
import { admin, configured, feed } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");

/** A mail with one attachment whose content is `attachment`. */
function withAttachment(headers: Record<string, string>, body: string, attachment: string): string {
  return mail(
    { ...headers, "MIME-Version": "1.0", "Content-Type": 'multipart/mixed; boundary="b"' },
    `--b\nContent-Type: text/plain\n\n${body}\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="a.bin"\nContent-Transfer-Encoding: base64\n\n${Buffer.from(attachment).toString("base64")}\n--b--\n`,
  );
}

/** Every file under dir (recursively) whose bytes contain `marker`. */
function filesContaining(dir: string, marker: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesContaining(p, marker));
    else if (readFileSync(p).includes(marker)) out.push(p);
  }
  return out;
}

const query = <T = any>(sb: Sandbox, sql: string, ...params: unknown[]): T[] => {
  const d = db(sb);
  try {
    return rows<T>(d, sql, ...params);
  } finally {
    d.close();
  }
};
const tally = (sb: Sandbox, table: string, where = "1=1", ...params: unknown[]) => {
  const d = db(sb);
  try {
    return count(d, table, where, ...params);
  } finally {
    d.close();
  }
};
/** Whether the bytes a row named are kept: its spool or attachment file, or on PostgreSQL its blob (issue 11.8). */
const kept = (sb: Sandbox, path: string) => {
  const d = db(sb);
  try {
    return storedExists(d, path);
  } finally {
    d.close();
  }
};
const exec = (sb: Sandbox, sql: string) => {
  const d = db(sb);
  d.exec(sql);
  d.close();
};

describe("purge --email: erasing one person", () => {
  const MARK = "ZQX-MARKER-4711";
  const setup = async () => {
    const sb = configured((dir) => ({
      defaultRoute: { kind: "ticket", sendResponse: true },
      outbound: { transport: "file", dir: join(dir, "outbox"), from: "service@example.test" },
    }));
    await admin(sb, "user", "add", "--email", "alice@customer.example", "--name", `Alice ${MARK}`);
    const alice = { From: `Alice <alice@customer.example>`, To: "service@example.test" };
    const first = withAttachment({ ...alice, Subject: `Order ${MARK}`, "Message-ID": "<a1@customer.example>" }, `My secret ${MARK}.`, `private ${MARK} scan`);
    await feed(sb, first); // staged 1, issue 1, confirmation to alice
    await feed(sb, first); // 2: a redelivery (duplicate)
    const big = mail({ ...alice, Subject: "Re: [CS-000001] logs" }, `${MARK}\n${"log line\n".repeat(150_000)}`);
    await feed(sb, big); // 3: spooled
    // Bob sends the same attachment content as Alice's other one (shared file) and his own issue.
    await feed(sb, withAttachment({ From: "bob@other.example", To: "service@example.test", Subject: "Bob's issue" }, "Bob here.", "shared bytes"));
    await feed(sb, withAttachment({ ...alice, Subject: `Shared ${MARK}` }, "also mine", "shared bytes"));
    // 6: a mail the parser refuses (5,000 nested parts) is an `error` record; its header, read alone,
    // names her, so it is hers to erase too (issue 9.1).
    let nest = "";
    for (let i = 0; i < 5000; i++) nest += `--n${i}\nContent-Type: multipart/mixed; boundary="n${i + 1}"\n\n`;
    expect((await feed(sb, mail({ ...alice, Subject: `Broken ${MARK}`, "MIME-Version": "1.0", "Content-Type": 'multipart/mixed; boundary="n0"' }, nest))).status).toBe("error");
    return sb;
  };

  it("--dry-run reports what would go and removes nothing", async () => {
    const sb = await setup();
    const before = query(sb, "SELECT (SELECT count(*) FROM staged_mails) AS s, (SELECT count(*) FROM issues) AS i, (SELECT count(*) FROM attachments) AS a");
    const r = await admin(sb, "purge", "--email", "alice@customer.example", "--dry-run");
    expect(r).toMatchObject({ email: "alice@customer.example", dryRun: true, vacuumed: false, checkpoint: "skipped" });
    expect(r.removed).toMatchObject({ stagedMails: 5, users: 1, userIdentifications: 1, issues: 2 });
    expect(query(sb, "SELECT (SELECT count(*) FROM staged_mails) AS s, (SELECT count(*) FROM issues) AS i, (SELECT count(*) FROM attachments) AS a")).toEqual(before);
    expect(filesContaining(sb.dir, MARK).length).toBeGreaterThan(0);
  });

  it("removes every row and file about them, overwrites the bytes in the database files, and keeps everyone else's", async () => {
    const sb = await setup();
    const spool = query(sb, "SELECT raw_path AS p FROM staged_mails WHERE id = 3")[0].p;
    const shared = query(sb, "SELECT stored_path AS p FROM attachments WHERE staged_mail_id = 4 ORDER BY id")[0].p;
    expect(kept(sb, spool)).toBe(true);
    const r = await admin(sb, "purge", "--email", "ALICE@customer.example");
    expect(r).toEqual({
      email: "alice@customer.example",
      dryRun: false,
      removed: {
        stagedMails: 5, // 1, its duplicate 2, 3, 5 and the error record 6
        statusHistory: expect.any(Number),
        attachments: 2, // 1's and 5's (a redelivery is not parsed again)
        interactions: 3,
        actions: 3,
        outboundMails: 2, // the confirmations of her two new issues (staged 1 and 5; 3 was a reply)
        issues: 2,
        issueHistory: 0,
        userIdentifications: 1,
        users: 1,
      },
      files: { removed: 2, bytes: expect.any(Number) }, // the spool file and the private scan; not the shared one
      vacuumed: true,
      checkpoint: "done",
    });
    // Nothing about Alice anywhere under the sandbox: database, WAL, spool, attachments (the outbox
    // folder of the file transport holds the confirmations we sent her, which are not ours to erase).
    const left = filesContaining(sb.dir, MARK).filter((p) => !p.includes(`${join(sb.dir, "outbox")}`));
    expect(left).toEqual([]);
    expect(filesContaining(sb.dir, "alice@customer.example").filter((p) => !p.includes("outbox"))).toEqual([]);
    expect(kept(sb, spool)).toBe(false);
    expect(kept(sb, shared)).toBe(true);
    // Bob is untouched, his attachment readable.
    expect(query(sb, "SELECT id, from_address AS f FROM staged_mails ORDER BY id")).toEqual([{ id: 4, f: "bob@other.example" }]);
    expect(query(sb, "SELECT id, subject FROM issues ORDER BY id")).toEqual([{ id: 2, subject: "Bob's issue" }]);
    const att = query(sb, "SELECT id FROM attachments WHERE staged_mail_id = 4 ORDER BY id")[0].id;
    const out = join(sb.dir, "bob.bin");
    expect((await cli(sb, "attachment", "get", String(att), "-o", out)).code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("shared bytes");
    // Gone means gone: the id is unknown now.
    expect((await cli(sb, "show", "1", "--raw")).code).toBe(66);
  });

  it("the text report, and an address nobody has", async () => {
    const sb = await setup();
    const r = await cli(sb, "purge", "--email", "nobody@nowhere.example");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^erased nobody@nowhere\.example\nREMOVED\s+COUNT\nstagedMails\s+0\n/);
    expect(r.stdout).toMatch(/files\s+0 \(0 bytes\)\n$/);
    expect(tally(sb, "staged_mails")).toBe(6);
  });
});

describe("purge --older-than: retention", () => {
  // Staged 1 (complete, old, attachment), 2 (invalid, old), 3 (complete, recent), 4 (complete, old).
  const setup = async () => {
    const sb = configured();
    const to = { To: "service@example.test" };
    await feed(sb, withAttachment({ ...to, From: "a@a.example", Subject: "Old one" }, "old text one", "old attachment"));
    await feed(sb, mail({ ...to, From: "b@b.example", Subject: "" }, "no subject"));
    await feed(sb, withAttachment({ ...to, From: "c@c.example", Subject: "Recent" }, "recent text", "recent attachment"));
    await feed(sb, mail({ ...to, From: "a@a.example", Subject: "Re: [CS-000001] old reply" }, "old text two"));
    exec(sb, `UPDATE staged_mails SET received_at = '2020-01-01T00:00:00.000Z' WHERE id IN (1, 2, 4)`);
    return sb;
  };
  const staged = (sb: Sandbox) => query(sb, "SELECT id FROM staged_mails ORDER BY id").map((r) => r.id);

  it("removes old finished mail with its raw bytes, attachments and conversation; issues stay", async () => {
    const sb = await setup();
    const oldFile = query(sb, "SELECT stored_path AS p FROM attachments WHERE staged_mail_id = 1 ORDER BY id")[0].p;
    const r = await admin(sb, "purge", "--older-than", "180d");
    expect(r).toMatchObject({ statuses: ["complete", "duplicate", "invalid", "ignored", "bounce"], keepText: false, dryRun: false, checkpoint: "done" });
    expect(r.removed).toMatchObject({ stagedMails: 3, attachments: 1, interactions: 2, actions: 2, issues: 0 });
    expect(r.files).toEqual({ removed: 1, bytes: "old attachment".length });
    expect(staged(sb)).toEqual([3]);
    expect(kept(sb, oldFile)).toBe(false);
    expect(query(sb, "SELECT id FROM issues ORDER BY id").map((x) => x.id)).toEqual([1, 2]);
    expect(filesContaining(sb.dir, "old text")).toEqual([]);
  });

  it("never removes a file outside spoolDir and attachmentsDir, whatever a row says", async () => {
    const sb = await setup();
    const outside = join(sb.dir, "outside.bin");
    writeFileSync(outside, "not ours");
    exec(sb, `UPDATE attachments SET stored_path = '${outside}' WHERE staged_mail_id = 1`);
    const r = await admin(sb, "purge", "--older-than", "180d");
    expect(r.removed.attachments).toBe(1);
    expect(r.files).toEqual({ removed: 0, bytes: 0 });
    expect(readFileSync(outside, "utf8")).toBe("not ours");
  });

  it("--status limits what goes; --keep-text keeps the conversation on its issue", async () => {
    const sb = await setup();
    const r = await admin(sb, "purge", "--older-than", "180d", "--status", "complete", "--keep-text");
    expect(r.removed).toMatchObject({ stagedMails: 2, attachments: 1, interactions: 0, actions: 0 });
    expect(staged(sb)).toEqual([2, 3]);
    const shown = await admin(sb, "issue", "show", "1");
    expect(shown.actions.map((a: any) => [a.details.trim(), a.stagedMailId])).toEqual([
      ["old text one", null],
      ["old text two", null],
    ]);
    expect((await cli(sb, "issue", "show", "1")).stdout).toContain("    old text two");
  });

  it("--dry-run says the same and removes nothing", async () => {
    const sb = await setup();
    const dry = await admin(sb, "purge", "--older-than", "180d", "--dry-run");
    expect(dry).toMatchObject({ dryRun: true, checkpoint: "skipped", removed: { stagedMails: 3, actions: 2 }, files: { removed: 1 } });
    expect(staged(sb)).toEqual([1, 2, 3, 4]);
    expect(tally(sb, "attachments")).toBe(2);
    const text = await cli(sb, "purge", "--older-than", "180d", "--dry-run");
    expect(text.stdout).toMatch(/^dry run, nothing removed: purged staged mail received before \S+ \(complete, duplicate, invalid, ignored, bounce\)\nREMOVED\s+WOULD BE\n/);
  });

  it("--help names the statuses a purge without --status removes, and the others it may be given", async () => {
    const sb = configured();
    const { statuses } = await admin<{ statuses: string[] }>(sb, "purge", "--older-than", "1d", "--dry-run");
    expect(statuses).toEqual(["complete", "duplicate", "invalid", "ignored", "bounce"]); // README "Retention and erasure"
    const help = (await cli(sb, "purge", "--help")).stdout.replace(/\s+/g, " ");
    expect(help).toContain(`(default ${statuses.join(", ")}; also error, held, spam)`);
  });

  it("without --older-than, the configured retention applies", async () => {
    const sb = await setup();
    const file = sb.env.INGEST_MAIL_CONFIG!;
    const config = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...config, retention: { olderThanDays: 365, statuses: ["invalid"], keepText: true } }));
    const r = await admin(sb, "purge");
    expect(r).toMatchObject({ statuses: ["invalid"], keepText: true, removed: { stagedMails: 1 } });
    expect(staged(sb)).toEqual([1, 3, 4]);
  });

  it("purgeOnce(deps, retention): what the long-running modes call on a schedule", async () => {
    const sb = await setup();
    const deps = await makeDeps({ db: sb.db, config: sb.env.INGEST_MAIL_CONFIG }, sb.env);
    // A clock a year from now: everything is old.
    const later = new Date(Date.now() + 366 * 86_400_000);
    const report = await purgeOnce({ ...deps, now: () => later }, { olderThanDays: 365 });
    expect(report.before).toBe(new Date(later.getTime() - 365 * 86_400_000).toISOString());
    expect(report.removed.stagedMails).toBe(4);
    await deps.store.close();
    expect(staged(sb)).toEqual([]);
  });

  it.each([
    [["purge"], 64, /give --older-than AGE or --email ADDRESS \(or set retention in the configuration\)/],
    [["purge", "--older-than", "6 months"], 64, /--older-than takes an age such as 180d/],
    [["purge", "--older-than", "1d", "--status", "new"], 64, /--status new: only complete, duplicate, invalid, ignored, bounce, error, held, spam can be purged/],
    [["purge", "--email", "a@b.example", "--older-than", "1d"], 64, /does not combine/],
    [["purge", "--email", "not-an-address"], 64, /is not an email address/],
  ])("refuses %j", async (args, code, message) => {
    const sb = configured();
    const r = await cli(sb, ...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it("a retention key with a bad value is refused with its name (78)", async () => {
    const sb = configured({ retention: { olderThanDays: 0 } });
    const r = await cli(sb, "purge");
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/"retention.olderThanDays" must be a whole number ≥ 1/);
    const sb2 = configured({ retention: { olderThanDays: 30, statuses: ["new"] } });
    expect((await cli(sb2, "purge")).stderr).toMatch(/"retention.statuses\[0\]" must be one of "complete"/);
  });
});

describe("retentionSchedule: the configured purge between a long-running mode's cycles", () => {
  it("runs at the first tick, then once per interval; nothing without a retention key", async () => {
    const { retentionSchedule } = await import("../src/maintenance/retention-schedule.js");
    const sb = configured({ retention: { olderThanDays: 1 } });
    await feed(sb, mail({ From: "a@a.example", To: "service@example.test", Subject: "one" }));
    const deps = await makeDeps({ db: sb.db, config: sb.env.INGEST_MAIL_CONFIG }, sb.env);
    let now = Date.now() + 2 * 86_400_000; // the mail is two days old
    const schedule = retentionSchedule(() => ({ ...deps, now: () => new Date(now) }), 3_600_000);
    expect((await schedule.tick())?.removed.stagedMails).toBe(1);
    // A new (old enough) mail: not purged before the hour is up, then purged.
    await feed(sb, mail({ From: "b@b.example", To: "service@example.test", Subject: "two" }));
    now += 59 * 60_000;
    expect(await schedule.tick()).toBeNull();
    now += 2 * 60_000;
    expect((await schedule.tick())?.removed.stagedMails).toBe(1);
    const off = retentionSchedule(() => ({ ...deps, config: { ...deps.config, retention: null } }));
    expect(await off.tick()).toBeNull();
    await deps.store.close();
  });
});

describe("the LMTP daemon runs the configured retention at its sweep", () => {
  it("purges old mail at start and says so in its log", async () => {
    const { startDaemon, until } = await import("./helpers/lmtp.js");
    const sb = configured({ retention: { olderThanDays: 30 } });
    await feed(sb, mail({ From: "a@a.example", To: "service@example.test", Subject: "old" }));
    await feed(sb, mail({ From: "b@b.example", To: "service@example.test", Subject: "recent" }));
    exec(sb, `UPDATE staged_mails SET received_at = '2020-01-01T00:00:00.000Z' WHERE id = 1`);
    const d = await startDaemon(sb);
    try {
      await until(() => /retention: purged 1 staged mails received before/.test(d.stderr()), 10_000, "the retention log line");
    } finally {
      await d.stop();
    }
    expect(query(sb, "SELECT id FROM staged_mails ORDER BY id").map((r) => r.id)).toEqual([2]);
  });
});
