// Issue 9: never lose a mail, never bounce one. End to end through the built binary: the raw bytes
// are staged first, everything after that is derived from them (and can be derived again), the
// work on hostile input is bounded, and the MTA only ever sees 0 (staged) or 75 (retry).
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, count, db, hasTable, mail, onPostgres, readFixture, rows, run, runAsync, sqliteOnly, storedExists, type Sandbox } from "./helpers/cli.js";
import { configured, spawnIngest, withAttachment } from "./hardening/support.js";
import { MAX_RTF_TEXT } from "../src/pipeline/rtf-body.js";
import { attribute, compressedRepeat, propertyList, writeTnef } from "./helpers/tnef-writer.js";

const base = { supportAddresses: ["service@example.com", "billing@example.com"] };

function write(sb: Sandbox & { config: string }, config: Record<string, unknown>): void {
  writeFileSync(sb.config, JSON.stringify({ ...base, ...config }));
}

/** Alive and not a zombie (a killed orphan may wait for a PID 1 that never reaps it). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const withOutbox = (dir: string, extra: Record<string, unknown> = {}) => ({
  routes: [{ address: "service@example.com", kind: "ticket", sendResponse: true }],
  outbound: { transport: "file", dir: join(dir, "outbox"), from: "Support <service@example.com>" },
  ...extra,
});

describe("issue 9.1/9.2: staged first, everything derived from the raw bytes", () => {
  it("a parse past its budget ends in error with the raw bytes kept; resubmitted after the fix it is processed as if fresh", () => {
    const sb = configured({});
    write(sb, withOutbox(sb.dir, { limits: { parseSeconds: 0 } }));
    const message = withAttachment({ messageId: "budget@x", from: "Ann Customer <ann@example.com>", subject: "Order 77", size: 5_000 });
    const r = run(sb, ["--json"], message);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: "error", issues: [] });
    expect(r.json().error).toMatch(/longer than limits\.parseSeconds/);
    let d = db(sb);
    const [row] = rows(d, "SELECT raw, status FROM staged_mails WHERE id = ?", r.json().stagedId);
    expect(Buffer.from(row.raw).toString()).toBe(message);
    expect(count(d, "attachments")).toBe(0);
    expect(count(d, "issues")).toBe(0);
    d.close();

    write(sb, withOutbox(sb.dir));
    const again = run(sb, ["resubmit", String(r.json().stagedId), "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const out = again.json();
    expect(out).toMatchObject({ status: "complete", issues: [{ created: true, reference: "CS-000001" }] });
    expect(out.outbound).toMatchObject([{ kind: "confirmation", to: "ann@example.com", status: "sent" }]);
    d = db(sb);
    const [staged] = rows(d, "SELECT from_address, from_name, subject FROM staged_mails WHERE id = ?", out.stagedId);
    expect(staged).toEqual({ from_address: "ann@example.com", from_name: "Ann Customer", subject: "Order 77" });
    const atts = rows(d, "SELECT filename, size, stored_path FROM attachments WHERE staged_mail_id = ? ORDER BY id", out.stagedId);
    expect(atts).toMatchObject([{ filename: "data.bin", size: 5_000 }]);
    expect(storedExists(d, atts[0].stored_path)).toBe(true);
    expect(rows(d, "SELECT details FROM actions ORDER BY id")[0].details).toContain("See attached.");
    d.close();
    expect(readdirSync(join(sb.dir, "outbox")).filter((f) => f.endsWith(".eml"))).toHaveLength(1);
  });

  it("no subject: invalid; resubmit --subject processes the stored bytes with the correction, sender and body included", () => {
    const sb = configured(base);
    const r = run(sb, ["--json"], mail({ From: "Bo Brown <bo@example.com>", To: "service@example.com", Subject: "" }, "My printer is on fire.\n"));
    expect(r.json().status).toBe("invalid");
    const again = run(sb, ["resubmit", String(r.json().stagedId), "--subject", "Printer fire", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ status: "complete", issues: [{ created: true }] });
    const d = db(sb);
    expect(rows(d, "SELECT subject, from_address, subject_override FROM staged_mails ORDER BY id")).toEqual([{ subject: "Printer fire", from_address: "bo@example.com", subject_override: "Printer fire" }]);
    expect(rows(d, "SELECT subject FROM issues ORDER BY id")).toEqual([{ subject: "Printer fire" }]);
    expect(rows(d, "SELECT details FROM actions ORDER BY id")[0].details).toContain("My printer is on fire.");
    d.close();
  });

  it("resubmit --status error [--since] takes every such record, oldest first", () => {
    const sb = configured({ ...base, limits: { parseSeconds: 0 } });
    const ids = [1, 2, 3].map((i) => run(sb, ["--json"], mail({ From: `p${i}@example.com`, To: "service@example.com", Subject: `Bulk ${i}` })).json().stagedId);
    write(sb, {});
    expect(run(sb, ["resubmit", "--status", "error", "--since", "2999-01-01", "--json"]).json()).toEqual({ resubmitted: [] });
    const bulk = run(sb, ["resubmit", "--status", "error", "--json"]);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(bulk.json().resubmitted.map((o: { stagedId: number; status: string }) => [o.stagedId, o.status])).toEqual(ids.map((id) => [id, "complete"]));
    expect(run(sb, ["resubmit", "--status", "complete"]).code).toBe(64);
    expect(run(sb, ["resubmit"]).code).toBe(64);
  });
});

/** `n` bytes of 0x80-0xFF (as a Latin-1 string), none of them valid UTF-8 in a row. */
const highBytes = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x80 + ((i * 7919) % 128))).join("");

/** A multipart mail of `parts` text parts with no charset, each `bytes` of 8-bit bytes, its Subject declaring nine charsets. */
function manyUnlabelledParts(parts: number, bytes: number): string {
  const charsets = ["gb18030", "big5", "shift_jis", "euc-jp", "euc-kr", "koi8-r", "iso-8859-2", "windows-1251", "iso-8859-7"];
  const body = Array.from({ length: parts }, () => `--b\nContent-Type: text/plain\n\n${highBytes(bytes)}\n`).join("");
  return mail({ From: "m@example.com", Subject: charsets.map((c) => `=?${c}?Q?x?=`).join(" "), "Content-Type": "multipart/mixed; boundary=b" }, `${body}--b--\n`);
}

/** A mail whose winmail.dat is `size` bytes of attachment attributes: empty ones, and property lists claiming 0xFFFFFFFF entries. */
function craftedWinmail(size: number): string {
  const attr = (id: number, data: Buffer) => attribute(0x02, id, data);
  const claim = Buffer.from("ffffffff1f000737", "hex");
  const parts: Buffer[] = [Buffer.from("789f3e220000", "hex")];
  for (let n = 0; n < size; n += parts[parts.length - 1].length) parts.push(parts.length % 2 ? attr(0x00069002, Buffer.alloc(0)) : attr(0x00069005, claim));
  const tnef = Buffer.concat(parts).toString("base64").replace(/.{76}/g, "$&\n");
  return mail({ From: "w@example.com", Subject: "winmail", "MIME-Version": "1.0", "Content-Type": "multipart/mixed; boundary=b" }, `--b\nContent-Type: text/plain\n\nSee attached.\n--b\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n\n${tnef}\n--b--\n`);
}

/** A mail whose winmail.dat holds 256 attached mails (the most read), each with 4 KB of transport headers and a recipient table claiming 4 billion rows, each holding a mail of its own. */
function manyAttachedMails(): string {
  const table = Buffer.concat([Buffer.from("ffffffff", "hex"), propertyList([[0x0003, 0x0c15, Buffer.from([1, 0, 0, 0])], [0x001f, 0x39fe, Buffer.from("a@b.example\0", "utf16le")]])]);
  const one = (i: number) => ({ title: `m${i}`, message: { subject: `m${i}`, transportHeaders: `From: a${i}@x.example\r\nX-Pad: ${"p".repeat(4000)}\r\n`, recipientTable: table, mapiBody: "b", files: [{ title: "in", message: { subject: "inner", mapiBody: "i" } }] } });
  const tnef = writeTnef({ files: Array.from({ length: 256 }, (_, i) => one(i)) }).toString("base64").replace(/.{76}/g, "$&\n");
  return mail({ From: "w@example.com", Subject: "attached mails", "MIME-Version": "1.0", "Content-Type": "multipart/mixed; boundary=b" }, `--b\nContent-Type: text/plain\n\nSee attached.\n--b\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n\n${tnef}\n--b--\n`);
}

/** `parts` attachments, each named by `words` encoded words, each word in a charset of its own that no one knows. */
function madeUpCharsets(parts: number, words: number): string {
  const part = (p: number) => `--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="${Array.from({ length: words }, (_, i) => `=?${String.fromCharCode(97 + p)}${i.toString(16)}?Q?a?=`).join(" ")}"\n\nx\n`;
  return mail({ From: "c@example.com", Subject: "charsets", "MIME-Version": "1.0", "Content-Type": "multipart/mixed; boundary=b" }, `--b\nContent-Type: text/plain\n\nhi\n${Array.from({ length: parts }, (_, p) => part(p)).join("")}--b--\n`);
}

/** BER SignedData whose signed content is `size` bytes of one-byte OCTET STRING chunks (indefinite lengths, as Outlook writes). */
function craftedSignedData(size: number): Buffer {
  const open = Buffer.from("308006092a864886f70d010702a0803080020101310030800" + "6092a864886f70d010701a0802480", "hex");
  return Buffer.concat([open, Buffer.from("040178".repeat(Math.floor(size / 3)), "hex"), Buffer.alloc(12)]);
}

/** A message that is winmail.dat alone, its body the given compressed RTF. */
function winmailRtf(rtf: Buffer): string {
  const tnef = writeTnef({ rtf }).toString("base64").replace(/.{76}/g, "$&\n");
  return mail({ From: "r@example.com", Subject: "rtf", "MIME-Version": "1.0", "Content-Type": "application/ms-tnef; name=winmail.dat", "Content-Transfer-Encoding": "base64" }, `${tnef}\n`);
}

describe("issue 9.3: linear, bounded work on hostile input", () => {
  // The shapes that took minutes before: every one is staged and finished within a small bound
  // (the bench measures the figures; here a generous bound for a loaded machine).
  const MB = 1024 * 1024;
  const nestedTags = "<div><span><b><i>".repeat(MB / 17) + "deep";
  it.each([
    ["an HTML-only body of 1 MB of nested tags", mail({ From: "h@example.com", Subject: "nested", "MIME-Version": "1.0", "Content-Type": "text/html" }, nestedTags)],
    // Header fields stay under mailsplit's 1 MB header limit, so the header code does the work.
    ["a From of 'a', 500 KB of spaces and 'x' (a minute of regex backtracking before)", `From: a${" ".repeat(MB / 2)}x\nSubject: spaces\nMessage-ID: <sp@x>\n\nbody\n`],
    ["a To of 500 KB of quotes and commas", `From: q@example.com\nTo: ${'",'.repeat(MB / 4)}\nSubject: commas\n\nbody\n`],
    ["a From of 500 KB of spaces between two words", `From: Ann${" ".repeat(MB / 2)}Smith <ann@example.com>\nSubject: name\n\nbody\n`],
    ["1 MB of '<' in an HTML body", mail({ From: "l@example.com", Subject: "lt", "Content-Type": "text/html" }, "<".repeat(MB))],
    ["a 1 MB line of spaces in an HTML body", mail({ From: "s@example.com", Subject: "blank", "Content-Type": "text/html" }, `<p>${" ".repeat(MB)}x</p>`)],
    // Text in no charset it declares is read in turn as UTF-8, the declared charsets, a guess and Windows-1252 (body-text.ts).
    ["1 MB of 8-bit bytes in a text body with no charset", Buffer.from(mail({ From: "e@example.com", Subject: "8bit" }, highBytes(MB)), "latin1")],
    ["50 parts of 20 KB of 8-bit bytes with no charset, nine charsets declared", Buffer.from(manyUnlabelledParts(50, 20_000), "latin1")],
    // A charset no one knows was found out by catching the error iconv-lite and TextDecoder throw, twice or
    // three times a word: four filenames of 60,000 made-up charsets (3.3 MB) ran into limits.parseSeconds
    // (10 s) and ended in error; 3.5 s now (bundle.mjs, header-text.ts).
    ["four filenames of 60,000 encoded words in as many made-up charsets", madeUpCharsets(4, 60_000)],
    // winmail.dat is read by lengths and counts the mail gives (tnef.ts): each is checked against the bytes left.
    ["a winmail.dat of 1 MB of empty attachments whose property lists claim 4 billion entries", craftedWinmail(MB)],
    // Each attached mail is written out as an .eml (tnef-message.ts); the 256 files read count those inside them.
    ["a winmail.dat of 256 attached mails with 4 KB headers and recipient tables claiming 4 billion rows", manyAttachedMails()],
    // S/MIME signed-data is read by asn1js under its bounds (smime-signed.ts): 1 MB of chunks is past its node count.
    ["S/MIME signed-data of 1 MB of one-byte chunks", mail({ From: "s@example.com", Subject: "signed", "MIME-Version": "1.0", "Content-Type": "application/pkcs7-mime; smime-type=signed-data", "Content-Transfer-Encoding": "base64" }, `${craftedSignedData(MB).toString("base64").replace(/.{76}/g, "$&\n")}\n`)],
    // Its RTF body (rtf-body.ts): about 32 KB of compressed RTF that expands to the 256 KiB read at most, in groups 39 deep.
    ["a winmail.dat whose only text is RTF of groups nested 39 deep, expanding 8 times", winmailRtf(compressedRepeat("{\\rtf1\\ansi\\fromhtml1 ", `${"{".repeat(38)}x${"}".repeat(38)}`, MAX_RTF_TEXT - 64))],
  ])("%s: staged and finished quickly", (_name, input) => {
    const sb = configured(base);
    const t0 = Date.now();
    const r = run(sb, ["--json"], input);
    const ms = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().status).toBe("complete");
    expect(ms).toBeLessThan(10_000);
  });

  it("a text body past limits.maxTextBytes is cut on the record, the raw message keeps it whole", () => {
    const sb = configured({ ...base, limits: { maxTextBytes: 10_000 } });
    const body = "line of text\n".repeat(5_000);
    const r = run(sb, ["--json"], mail({ From: "t@example.com", To: "service@example.com", Subject: "long" }, body));
    expect(r.json().status).toBe("complete");
    expect(r.json().trace.some((t: { reason: string }) => /cut to 10000 bytes/.test(t.reason))).toBe(true);
    const d = db(sb);
    const details = rows(d, "SELECT details FROM actions ORDER BY id")[0].details as string;
    expect(details.length).toBeLessThan(10_200);
    expect(details).toMatch(/cut at 10000 bytes; the raw message keeps the whole text\]$/);
    expect(Buffer.from(rows(d, "SELECT raw FROM staged_mails ORDER BY id")[0].raw).toString()).toContain(body);
    d.close();
  });
});

describe("issue 9.5/9.6: redeliveries", () => {
  const original = () => mail({ "Message-ID": "<same@x>", From: "ann@example.com", To: "service@example.com", Subject: "Redelivered" });

  it("the same bytes again, with new trace fields, for the same recipient: duplicate", () => {
    const sb = configured(base);
    const first = run(sb, ["--json", "service@example.com"], original()).json();
    const again = run(sb, ["--json", "service@example.com"], `Received: from mx2 by mx1; Sat, 5 Dec 2026\nReturn-Path: <ann@example.com>\nDelivered-To: service@example.com\n${original()}`).json();
    expect(again).toMatchObject({ status: "duplicate", duplicateOf: first.stagedId });
    const d = db(sb);
    expect(count(d, "interactions")).toBe(1);
    d.close();
  });

  it("a reused Message-ID with other content is processed as its own message; the trace says so", () => {
    const sb = configured(base);
    const first = run(sb, ["--json"], original()).json();
    const other = run(sb, ["--json"], original().replace("Hello.", "A different form submission.")).json();
    expect(other.status).toBe("complete");
    expect(other.issues[0].created).toBe(true);
    expect(other.trace).toContainEqual({ step: "stage", decision: "Message-ID reused", reason: `staged mail ${first.stagedId} has the same Message-ID with other content; processed as a message of its own` });
  });

  it("the same message to two support addresses is processed once per address, each by its own route", () => {
    const sb = configured({ ...base, routes: [{ address: "billing@example.com", kind: "case", queue: "billing" }] });
    const a = run(sb, ["--json", "--recipient", "service@example.com"], original()).json();
    const b = run(sb, ["--json", "--recipient", "billing@example.com"], original()).json();
    expect([a.status, b.status]).toEqual(["complete", "complete"]);
    const d = db(sb);
    expect(rows(d, "SELECT kind, queue FROM issues ORDER BY id")).toEqual([
      { kind: "ticket", queue: null },
      { kind: "case", queue: "billing" },
    ]);
    d.close();
  });

  it("a redelivery finishes an original left new by a process that is gone, instead of answering duplicate", () => {
    const sb = configured(base);
    const first = run(sb, ["--json"], original()).json();
    // Where a kill after the staging commit leaves it: new, claimed by a dead process, no work done.
    const d = db(sb);
    d.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues; DELETE FROM user_identifications;");
    d.run("UPDATE staged_mails SET status = 'new', claimed_by = ?, interaction_id = NULL", `${hostname()}:999999999`);
    d.close();
    const again = run(sb, ["--json"], `Received: from retry\n${original()}`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ stagedId: first.stagedId, status: "complete", issues: [{ created: true }] });
    expect(again.json().trace[0]).toMatchObject({ step: "stage", decision: `redelivery finishes staged mail ${first.stagedId}` });
    const d2 = db(sb);
    expect(count(d2, "staged_mails")).toBe(1);
    expect(count(d2, "interactions")).toBe(1);
    d2.close();
  });

  it("an original a live process still holds is left to it: the redelivery is a duplicate", () => {
    const sb = configured(base);
    run(sb, ["--json"], original());
    const d = db(sb);
    d.run("UPDATE staged_mails SET status = 'new', claimed_by = ?, claimed_at = ?", `${hostname()}:${process.pid}`, new Date().toISOString());
    d.close();
    expect(run(sb, ["--json"], original()).json().status).toBe("duplicate");
  });

  it("SIGTERM before staging: exit 75, nothing staged, no spool file left", async () => {
    const sb = configured({ ...base, inlineRawMaxBytes: 1_000 });
    const child = spawn(process.execPath, [bin], { env: sb.env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    child.stdin.write(`From: slow@example.com\nSubject: slow\n\n${"x".repeat(5_000)}`);
    // Wait until the spool file exists: the process is reading, past the inline limit.
    const spool = join(sb.dir, "spool");
    for (let i = 0; i < 200 && !(existsSync(spool) && readdirSync(spool).length); i++) await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(spool)).toHaveLength(1);
    child.kill("SIGTERM");
    expect(await closed).toBe(75);
    expect(stderr).toMatch(/stopped by SIGTERM before the mail was staged/);
    expect(readdirSync(spool)).toEqual([]);
    const d = onPostgres || existsSync(sb.db) ? db(sb) : null;
    expect(d && hasTable(d, "staged_mails") ? count(d, "staged_mails") : 0).toBe(0);
    d?.close();
  });

  it("a mail that was interrupted 3 times ends in error, and still says who wrote it and about what", () => {
    const sb = configured(base);
    const first = run(sb, ["--json"], mail({ From: "Kim <kim@customer.example>", To: "service@example.com", Subject: "Crashes you", "Message-ID": "<crash@x>" })).json();
    // As a record whose third process was killed before its workflow committed: nothing parsed is kept.
    const d = db(sb);
    d.run(
      "UPDATE staged_mails SET status = 'new', attempts = 3, claimed_by = ?, claimed_at = ?, from_address = NULL, from_name = NULL, subject = NULL, message_id = NULL, to_addresses = NULL, trace = NULL WHERE id = ?",
      `${hostname()}:2147483646`,
      new Date().toISOString(),
      first.stagedId,
    );
    d.close();
    const r = run(sb, ["recover", "--older-than", "0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const e = db(sb);
    const [row] = rows(e, "SELECT status, error, from_address, from_name, subject, message_id, to_addresses, trace FROM staged_mails WHERE id = ?", first.stagedId);
    e.close();
    expect(row).toMatchObject({ status: "error", from_address: "kim@customer.example", from_name: "Kim", subject: "Crashes you", message_id: "<crash@x>", to_addresses: "service@example.com" });
    expect(row.error).toMatch(/^processing was interrupted 3 times/);
    expect(JSON.parse(row.trace).map((t: { step: string; decision: string }) => `${t.step}: ${t.decision}`)).toEqual(["parse: header only", "error: error"]);
  });

  it("recover sweeps spool and attachment files older than an hour that no record refers to", () => {
    const sb = configured(base);
    const kept = run(sb, ["--json"], withAttachment({ messageId: "kept@x", size: 3_000 })).json();
    const spool = join(sb.dir, "spool");
    const sub = join(sb.dir, "attachments", "ab");
    mkdirSync(spool, { recursive: true });
    mkdirSync(sub, { recursive: true });
    const orphans = [join(spool, `${"e".repeat(64)}.eml`), join(sub, `ab${"c".repeat(62)}`)];
    const young = join(spool, `${"f".repeat(64)}.eml`);
    const old = new Date(Date.now() - 2 * 3_600_000);
    for (const f of [...orphans, young]) writeFileSync(f, "orphan");
    for (const f of orphans) utimesSync(f, old, old);
    let d = db(sb);
    const [att] = rows(d, "SELECT stored_path FROM attachments WHERE staged_mail_id = ? ORDER BY id", kept.stagedId);
    // PostgreSQL (issue 11.8): the attachment is a blob in the database, and so are orphans there.
    if (onPostgres) d.run("INSERT INTO blobs (sha256, size) VALUES (?, 0)", "d".repeat(64));
    else utimesSync(att.stored_path, old, old);
    d.close();
    const r = run(sb, ["recover", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().removedOrphanFiles.sort()).toEqual(orphans.sort());
    if (onPostgres) expect(r.json().removedOrphanBlobs).toBe(1);
    expect(existsSync(young)).toBe(true);
    d = db(sb);
    expect(storedExists(d, att.stored_path)).toBe(true);
    d.close();
  });
});

describe("issue 9.8/9.9: outbound never holds up intake; errors are seen", () => {
  it("a sendmail that hangs is killed after outbound.timeoutSeconds, with what it started; the failed confirmation is said and retried later", async () => {
    const sb = configured({});
    const hang = join(sb.dir, "hanging-sendmail");
    // It reads the message, then waits on a child of its own: the deadline must kill both (only
    // the script was killed before; its sleep lived on under init).
    writeFileSync(hang, `#!/bin/sh\ncat > ${hang}.eml\nsleep 60 &\necho $! > ${hang}.pid\nwait\n`);
    chmodSync(hang, 0o755);
    write(sb, withOutbox(sb.dir, { outbound: { transport: "sendmail", path: hang, from: "service@example.com", timeoutSeconds: 1 } }));
    const t0 = Date.now();
    const r = run(sb, [], readFixture("new-request-gets-confirmation.eml").toString().replace(/service@example\.test/g, "service@example.com"));
    const sleeper = Number(readFileSync(`${hang}.pid`, "utf8"));
    try {
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r.stdout).toMatch(/^staged 1: complete; new CS-000001 \[todo\]; confirmation to .* failed \(.*did not finish within 1 s.*\); retry: ingest-mail outbox retry$/m);
      expect(readFileSync(`${hang}.eml`, "utf8")).toMatch(/^Subject: \[CS-000001\]/m); // the message reached its stdin
      for (let i = 0; i < 40 && running(sleeper); i++) await new Promise((done) => setTimeout(done, 50));
      expect(running(sleeper), `sendmail's child ${sleeper} outlived the timeout`).toBe(false);
    } finally {
      if (running(sleeper)) process.kill(sleeper, "SIGKILL");
    }
    write(sb, withOutbox(sb.dir));
    const retry = run(sb, ["outbox", "retry", "--json"]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.json().retried).toMatchObject([{ kind: "confirmation", status: "sent", error: null }]);
    const d = db(sb);
    expect(rows(d, "SELECT status, attempts FROM outbound_mails ORDER BY id")).toEqual([{ status: "sent", attempts: 2 }]);
    d.close();
    expect(run(sb, ["outbox", "retry", "--json"]).json().retried).toEqual([]);
    // Named: one that is sent says so; one that does not exist is refused before anything is sent.
    expect(run(sb, ["outbox", "retry", "1", "--json"]).json().retried).toMatchObject([{ status: "sent", error: "not failed (sent)" }]);
    const typo = run(sb, ["outbox", "retry", "1", "99"]);
    expect([typo.code, typo.stderr]).toEqual([66, "ingest-mail: no outgoing mail 99\n"]);
  });

  it("import sends after its batch commits: a delivery meanwhile is not held up by the write lock", async () => {
    const sb = configured({});
    const marker = join(sb.dir, "sending");
    const slow = join(sb.dir, "slow-sendmail");
    writeFileSync(slow, `#!/bin/sh\ntouch ${marker}\ncat >/dev/null\nsleep 3\n`);
    chmodSync(slow, 0o755);
    write(sb, withOutbox(sb.dir, { busyTimeoutMs: 500, outbound: { transport: "sendmail", path: slow, from: "service@example.com" } }));
    const src = join(sb.dir, "import");
    mkdirSync(src);
    writeFileSync(join(src, "a.eml"), mail({ From: "imp@example.com", To: "service@example.com", Subject: "Imported" }));
    const importing = spawnIngest(sb, ["import", src, "--send-confirmations", "--json"], "");
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(marker)).toBe(true);
    const meanwhile = await runAsync(sb, ["--json"], mail({ From: "mta@example.com", To: "billing@example.com", Subject: "Meanwhile" }));
    expect(meanwhile.code, meanwhile.stderr).toBe(0);
    expect(meanwhile.json().status).toBe("complete");
    const done = await importing;
    expect(done.code, done.stderr).toBe(0);
  });

  it("admin notices past limits.adminNoticesPerHour wait for one digest; every error status is logged", () => {
    const sb = configured({});
    const log = join(sb.dir, "ingest.log");
    write(sb, { adminAddress: "admin@example.com", logFile: log, limits: { parseSeconds: 0, adminNoticesPerHour: 2 }, outbound: { transport: "file", dir: join(sb.dir, "outbox"), from: "service@example.com" } });
    for (let i = 0; i < 4; i++) expect(run(sb, ["--json"], mail({ From: `e${i}@example.com`, Subject: `Bad ${i}` })).json().status).toBe("error");
    const d = db(sb);
    expect(rows(d, "SELECT status, count(*) AS n FROM outbound_mails WHERE kind = 'admin-error' GROUP BY status ORDER BY status")).toEqual([
      { status: "digest", n: 2 },
      { status: "sent", n: 2 },
    ]);
    d.close();
    expect(readFileSync(log, "utf8").match(/staged mail \d+ error: parsing took longer/g)).toHaveLength(4);
  });

  it("a database it must refuse is logged and answered 75, never re-initialised", (ctx) => {
    sqliteOnly(ctx, "an empty file where the database file should be");
    const sb = configured({});
    const log = join(sb.dir, "ingest.log");
    write(sb, { logFile: log });
    writeFileSync(sb.db, "");
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(sb.db, old, old);
    const r = run(sb, [], mail({ From: "z@example.com", Subject: "zero" }));
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/^ingest-mail: database .* is an empty file \(0 bytes\); refusing to initialise it.*\n$/);
    expect(readFileSync(sb.db)).toHaveLength(0);
    expect(readFileSync(log, "utf8")).toMatch(/not stored: database .* is an empty file/);
    expect(run(sb, ["list"]).code).toBe(78);
  });
});
