// Corpus check (issue 2): every message of ../shared/corpus (zammad, sisimai, discourse) is staged,
// and for the zammad mails with a .yml, from, subject and attachment names agree with what Zammad's
// own parser tests expect. The full set goes through ingest() in-process with deps made the way the
// CLI makes them (makeDeps); a sample goes through the built binary as the MTA runs it.
// mbox files (sisimai mailbox/) are split on their "From " lines: an MTA delivers one message at a
// time. Files without such a line (mailbox/size-0, -1, -2: 0 to 3 stray bytes) are one message each.
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDeps } from "../src/cli/context.js";
import { attachmentsOf, getStaged, type StagedMail } from "../src/store/queries/queries.js";
import type { Deps } from "../src/pipeline/deps.js";
import { ingest } from "../src/pipeline/ingest.js";
import { parseMail } from "../src/pipeline/parse.js";
import { db as openSandboxDb, rows, runAsync, sandbox, type RunResult } from "./helpers/cli.js";
import { compareAttachments, corpusDir, corpusMessages, corpusPresent, sameText, type CorpusMessage, type OurAttachment } from "./helpers/corpus.js";

const present = corpusPresent();
if (!present) console.warn(`corpus check skipped: ${corpusDir} is absent`);

/**
 * Where our reading differs from Zammad's .yml and ours is the right one. Each entry pins what we
 * store instead, so it can still fail.
 */
const ZAMMAD_DIFFERENCES: Record<string, { why: string; fromAddress?: string; fromName?: string; missing?: string[]; check?: (row: StagedMail) => boolean }> = {
  "zammad/mail046.box": {
    why: "From display name is raw 8-bit GB2312; the .yml holds Zammad's mis-decoding (ÎäŔźłÉ)",
    fromName: "武兰成",
  },
  "zammad/mail076.box": {
    why: 'From: "Millions Lottery Spain transfer"@example.com> is no address; Zammad keeps the header text as address and name, we keep the address parser\'s salvage and no name',
    fromAddress: "millions lottery spain transfer@example.com>",
    fromName: "",
  },
  "zammad/mail087.box": {
    why: "From: Test test@example.com (no angle brackets) is read as name + address; the part without Content-Type after the PDF is the text body (RFC 2046 default text/plain), Zammad files it as an attachment named 'file'",
    fromAddress: "test@example.com",
    fromName: "Test",
    missing: ["file"],
    check: (row) => (row.textBody ?? "").includes("Sie haben soeben ein neues Fax"),
  },
  "zammad/mail062.box": {
    why: "two unnamed inline text/html parts are shown as part of the HTML body (as mail readers do); Zammad files them as document.html, document1.html",
    missing: ["document.html", "document1.html"],
    check: (row) => (row.htmlBody ?? "").includes("some html 2"),
  },
};

interface Result {
  msg: CorpusMessage;
  status: string;
  /** Status in the database it was first ingested into, when that was a redelivery (`duplicate`). */
  duplicates: number;
  row: StagedMail;
  attachments: OurAttachment[];
  details: string[];
  ms: number;
}

describe.skipIf(!present)("corpus check", () => {
  const results: Result[] = [];
  const pools = new Map<string, Promise<Deps>[]>();
  const dir = present ? mkdtempSync(join(tmpdir(), "ingest-mail-corpus-")) : "";
  let totalMs = 0;

  // One database per corpus folder. The corpus repeats Message-IDs (sisimai's bsd/dos/mac copies,
  // zammad's variants of one mail): such a message is staged as a duplicate, which is right, and
  // is then ingested again into the next database of the pool so that it is processed in full too.
  const depsFor = (group: string, i: number): Promise<Deps> => {
    const pool = pools.get(group) ?? [];
    pools.set(group, pool);
    pool[i] ??= makeDeps({ db: join(dir, `${group}-${i}`, "ingest.db") }, {}, undefined, { create: true });
    return pool[i];
  };

  beforeAll(async () => {
    const messages = corpusMessages();
    const started = performance.now();
    for (const msg of messages) {
      const t0 = performance.now();
      let duplicates = 0;
      for (let i = 0; ; i++) {
        const deps = await depsFor(msg.group, i);
        const outcome = await ingest(deps, Readable.from([msg.bytes]), { recipient: null, sender: null }, { source: "stdin" });
        if (outcome.status === "duplicate") {
          expect((await getStaged(deps.db, outcome.stagedId))?.duplicateOf).toBe(outcome.duplicateOf);
          duplicates++;
          continue;
        }
        const row = (await getStaged(deps.db, outcome.stagedId))!;
        const attachments: OurAttachment[] = [];
        for (const a of await attachmentsOf(deps.db, row.id)) {
          const ours: OurAttachment = { filename: a.filename, contentType: a.contentType, contentId: a.contentId };
          if (/^message\/rfc822/i.test(a.contentType ?? "")) ours.innerSubject = (await parseMail(createReadStream(a.storedPath), join(dir, "inner"))).subject;
          attachments.push(ours);
        }
        const details = (await deps.db.all<{ details: string }>("SELECT a.details FROM actions a JOIN interactions i ON i.id = a.interaction_id WHERE i.staged_mail_id = ?", [row.id])).map((r) => r.details);
        // Issue 9.3: once recorded, the text lives on the actions only (stored once).
        if (row.status === "complete") {
          expect(row.textBody, msg.id).toBeNull();
          row.textBody = details[0] ?? null;
        }
        results.push({ msg, status: outcome.status, duplicates, row, attachments, details, ms: performance.now() - t0 });
        break;
      }
    }
    totalMs = performance.now() - started;
  }, 600_000);

  afterAll(async () => {
    for (const pool of pools.values()) for (const d of pool) await (await d).store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("stages every message: complete, or invalid for want of a subject (never error)", () => {
    const by = new Map<string, Record<string, number>>();
    for (const r of results) {
      const counts = by.get(r.msg.corpus) ?? {};
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      by.set(r.msg.corpus, counts);
    }
    const dups = results.filter((r) => r.duplicates > 0).length;
    console.log(`corpus: ${results.length} messages in ${(totalMs / 1000).toFixed(1)} s, ${(totalMs / results.length).toFixed(1)} ms per message in-process`);
    for (const [corpus, counts] of by) console.log(`corpus: ${corpus}: ${JSON.stringify(counts)}`);
    console.log(`corpus: ${dups} messages repeat an earlier Message-ID: staged as duplicate, then processed in a fresh database`);
    // Issue 10: mail the MTA's spam filter flagged is staged `spam` (kept, not processed until resubmitted).
    const flagged = (r: (typeof results)[number]) => r.status === "spam" && /^flagged as spam by the MTA \(X-Spam-(Flag|Status): /i.test(r.row.reason ?? "");
    const bad = results.filter((r) => r.status !== "complete" && !(r.status === "invalid" && r.row.subject === null) && !flagged(r)).map((r) => `${r.msg.id}: ${r.status} ${r.row.error ?? r.row.reason ?? ""}`);
    expect(bad).toEqual([]);
    expect(results.length).toBeGreaterThan(1000);
    // sisimai's maildir/err is mailbox/mbox-0 divided by hand: the split finds the same messages.
    const mbox0 = results.filter((r) => r.msg.id.startsWith("sisimai/mailbox/mbox-0#"));
    const err = results.filter((r) => r.msg.group === "err");
    expect(mbox0.length).toBe(err.length);
    expect(mbox0.map((r) => r.row.subject)).toEqual(err.map((r) => r.row.subject));
  });

  it("marks exactly the messages without a subject invalid (domain.md §1.4)", () => {
    const invalid = results.filter((r) => r.status === "invalid");
    console.log(`corpus: ${invalid.length} without subject, staged as invalid: ${invalid.map((r) => r.msg.id).join(", ")}`);
    for (const r of invalid) expect(r.row.reason, r.msg.id).toBe("the message has no subject");
    expect(results.filter((r) => r.row.subject === null && r.status !== "invalid").map((r) => r.msg.id)).toEqual([]);
    // A header named Subject that is missing (zammad mail023 has it below the blank line) or empty.
    for (const r of invalid) expect(/^subject:[ \t]*\S/im.test(headerPart(r.msg.bytes)), r.msg.id).toBe(false);
  });

  it("parses every message with a subject, including bare-CR line endings (sisimai maildir/mac)", () => {
    const mac = results.filter((r) => r.msg.group === "mac");
    expect(mac.length).toBeGreaterThan(0);
    expect(mac.filter((r) => r.status !== "complete").map((r) => r.msg.id)).toEqual([]);
    // Each mac file is a copy of a bsd one: same subject.
    const bsd = new Map(results.filter((r) => r.msg.group === "bsd").map((r) => [r.msg.id.split("/").pop(), r.row.subject]));
    const differs = mac.filter((r) => bsd.has(r.msg.id.split("/").pop()) && bsd.get(r.msg.id.split("/").pop()) !== r.row.subject).map((r) => r.msg.id);
    expect(differs).toEqual([]);
  });

  it("records body text for every processed message; HTML-only mail gets its HTML as text (domain.md §7)", () => {
    const complete = results.filter((r) => r.status === "complete");
    for (const r of complete) {
      expect(r.details.length, r.msg.id).toBeGreaterThan(0);
      for (const d of r.details) expect(d, r.msg.id).toBe(r.row.textBody ?? "");
    }
    const htmlOnly = complete.filter((r) => r.row.htmlBody && !/content-type:\s*text\/plain/i.test(r.msg.bytes.toString("latin1")) && visible(r.row.htmlBody) !== "");
    console.log(`corpus: ${htmlOnly.length} HTML-only messages, all with text in actions.details`);
    expect(htmlOnly.length).toBeGreaterThan(5);
    for (const r of htmlOnly) {
      const words = visible(r.row.htmlBody!).split(" ").filter((w) => /^[\p{L}\p{N}]{4,}$/u.test(w)).slice(0, 3);
      for (const w of words) expect(r.details[0], r.msg.id).toContain(w);
      expect(r.details[0], r.msg.id).not.toMatch(/<\/?(div|p|span|br|table)\b/i);
    }
  });

  it("agrees with Zammad's .yml on from, subject and attachment names (and their Content-ID and type)", () => {
    const checked = results.filter((r) => r.msg.expected);
    const tally = { messages: checked.length, from: 0, fromOf: 0, fromName: 0, fromNameOf: 0, subject: 0, subjectOf: 0, attachments: 0, attachmentsOf: 0, cid: 0, cidOf: 0, type: 0, typeOf: 0, known: 0 };
    const failures: string[] = [];
    for (const r of checked) {
      const e = r.msg.expected!;
      const known = ZAMMAD_DIFFERENCES[r.msg.id];
      if (known) tally.known++;
      if (e.fromEmail !== null) {
        tally.fromOf++;
        const want = known?.fromAddress ?? e.fromEmail.toLowerCase();
        if ((r.row.fromAddress ?? "") === want) tally.from++;
        else failures.push(`${r.msg.id}: from ${r.row.fromAddress} ≠ ${want}`);
      }
      if (e.fromDisplayName !== null) {
        tally.fromNameOf++;
        const want = known?.fromName ?? e.fromDisplayName;
        if (sameText(want.replace(/"/g, ""), (r.row.fromName ?? "").replace(/"/g, ""))) tally.fromName++;
        else failures.push(`${r.msg.id}: from name ${JSON.stringify(r.row.fromName)} ≠ ${JSON.stringify(want)}`);
      }
      if (e.subject !== null && e.subject.trim() !== "") {
        tally.subjectOf++;
        if (sameText(e.subject, r.row.subject ?? "")) tally.subject++;
        else failures.push(`${r.msg.id}: subject ${JSON.stringify(r.row.subject)} ≠ ${JSON.stringify(e.subject)}`);
      }
      if (e.attachments) {
        tally.attachmentsOf++;
        const c = compareAttachments(e.attachments, r.attachments, known?.missing);
        if (c.ok) tally.attachments++;
        else failures.push(`${r.msg.id}: attachments: Zammad's ${JSON.stringify(c.missing)} not found, ours ${JSON.stringify(c.extra)} not expected`);
        for (const [z, ours] of c.pairs) {
          if (z.contentId) {
            tally.cidOf++;
            if ((ours.contentId ?? "").replace(/^<|>$/g, "") === z.contentId) tally.cid++;
            else failures.push(`${r.msg.id}: Content-ID of ${z.filename}: ${ours.contentId} ≠ <${z.contentId}>`);
          }
          if (z.mimeType) {
            tally.typeOf++;
            if ((ours.contentType ?? "").toLowerCase() === z.mimeType.toLowerCase()) tally.type++;
            else failures.push(`${r.msg.id}: MIME type of ${z.filename}: ${ours.contentType} ≠ ${z.mimeType}`);
          }
        }
      }
      if (known?.check && !known.check(r.row)) failures.push(`${r.msg.id}: ${known.why}: check failed`);
    }
    console.log(
      `corpus: zammad .yml agreement over ${tally.messages} mails: from address ${tally.from}/${tally.fromOf}, from name ${tally.fromName}/${tally.fromNameOf}, subject ${tally.subject}/${tally.subjectOf}, attachment names ${tally.attachments}/${tally.attachmentsOf} (${tally.known} with a listed difference); of the matched attachments Content-ID ${tally.cid}/${tally.cidOf}, MIME type ${tally.type}/${tally.typeOf}`,
    );
    expect(failures).toEqual([]);
    expect(tally.attachmentsOf).toBeGreaterThan(40);
  });

  it("gives the same result through the built binary for a sample", async () => {
    // The first message of each folder and every 200th, piped into bin/ingest-mail.js as an MTA
    // does, two at a time (the machine has two cores).
    const firstOfGroup = new Map<string, Result>();
    for (const r of results) if (!firstOfGroup.has(r.msg.group)) firstOfGroup.set(r.msg.group, r);
    const sample = results.filter((r, i) => i % 200 === 0 || firstOfGroup.get(r.msg.group) === r);
    const sb = sandbox();
    const t0 = performance.now();
    const outs: { r: Result; res: RunResult }[] = [];
    for (let i = 0; i < sample.length; i += 2) {
      const batch = sample.slice(i, i + 2);
      const done = await Promise.all(batch.map((r) => runAsync(sb, ["--json"], r.msg.bytes)));
      batch.forEach((r, k) => outs.push({ r, res: done[k] }));
    }
    const ms = (performance.now() - t0) / sample.length;
    const d = openSandboxDb(sb);
    try {
      for (const { r, res } of outs) {
        expect(res.code, `${r.msg.id}: ${res.stderr}`).toBe(0);
        const out = res.json();
        const row = rows<{ status: string; from_address: string | null; subject: string | null }>(d, "SELECT status, from_address, subject FROM staged_mails WHERE id = ?", out.stagedId)[0];
        expect(row?.status, r.msg.id).toBe(out.status);
        if (out.status === "duplicate") continue; // the sample may hold a copy (bsd/dos/mac)
        expect(out.status, r.msg.id).toBe(r.status);
        const names = rows<{ filename: string | null }>(d, "SELECT filename FROM attachments WHERE staged_mail_id = ? ORDER BY id", out.stagedId).map((a) => a.filename);
        expect({ from: row.from_address, subject: row.subject, names }, r.msg.id).toEqual({ from: r.row.fromAddress, subject: r.row.subject, names: r.attachments.map((a) => a.filename) });
      }
    } finally {
      d.close();
      rmSync(sb.dir, { recursive: true, force: true });
    }
    console.log(`corpus: ${sample.length} sampled messages through the built binary, all exit 0, ${ms.toFixed(0)} ms each (wall, two at a time)`);
  }, 300_000);
});

function headerPart(bytes: Buffer): string {
  const text = bytes.toString("latin1").replace(/\r\n?/g, "\n");
  const end = text.indexOf("\n\n");
  return end < 0 ? text : text.slice(0, end);
}

function visible(html: string): string {
  return html
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&[a-z#0-9]+;/gi, " ")
    .replace(/\s+/g, " ")
    .trim();
}

