// domain.md §1 (staging), §2 (who wrote), §7 (recording), §8 (talking to the MTA), end to end through
// the built binary with the fixtures named after each rule.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { simpleParser } from "mailparser";
import { beforeEach, describe, expect, it } from "vitest";
import { writeTnef } from "./helpers/tnef-writer.js";
import { count, db, fixture, holdWriteLock, ingest, initDb, injectFault, LOCKED, onPostgres, readFixture, removeFault, rows, run, sandbox, sqliteOnly, storedBytes, type Sandbox } from "./helpers/cli.js";

let sb: Sandbox;
const config = { supportAddresses: ["service@example.test", "billing@example.test"] };

beforeEach(() => {
  sb = sandbox();
  const file = join(sb.dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  sb.env.INGEST_MAIL_CONFIG = file;
});

describe("§1 staging", () => {
  it("stages first, then new → in_process → workflow → complete, with a history row per status", () => {
    const out = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    expect(out.status).toBe("complete");
    const d = db(sb);
    const staged = rows(d, "SELECT * FROM staged_mails WHERE id = ?", out.stagedId)[0];
    expect(staged.status).toBe("complete");
    expect(staged.from_address).toBe("alice@customer.example");
    expect(staged.from_name).toBe("Alice Smith");
    expect(staged.to_addresses).toBe("service@example.test");
    expect(staged.subject).toBe("My order 1042 has not arrived");
    expect(staged.message_id).toBe("<new-mail-opens-issue@customer.example>");
    expect(staged.date).toBe("2024-01-01T10:00:00.000Z");
    // Issue 9.3: the text is stored once; once recorded, the action holds it.
    expect(staged.text_body).toBeNull();
    expect(rows(d, "SELECT details FROM actions ORDER BY id")[0].details).toContain("order 1042");
    expect(Buffer.from(staged.raw).equals(readFixture("new-mail-opens-issue.eml"))).toBe(true);
    const history = rows(d, "SELECT status FROM staged_mail_status_history WHERE staged_mail_id = ? ORDER BY id", out.stagedId).map((r) => r.status);
    expect(history).toEqual(["new", "in_process", "workflow", "complete"]);
  });

  // Issue 12: each UPDATE of a record rewrites its row, raw message included. The MTA path stages the
  // record already claimed, and processing writes it once: the parsed fields with the status it ends
  // in. The text body, which the actions hold (issue 9.3), is never written to it, not even for a moment.
  it("processing writes the record once, and never with the text body in it", () => {
    initDb(sb);
    const d = db(sb);
    if (d.engine === "sqlite") {
      d.exec(`CREATE TABLE test_writes (n INTEGER PRIMARY KEY, status TEXT, body INTEGER)`);
      d.exec(`CREATE TRIGGER test_writes AFTER UPDATE ON staged_mails BEGIN INSERT INTO test_writes (status, body) VALUES (NEW.status, NEW.text_body IS NOT NULL); END`);
    } else {
      d.exec(`CREATE TABLE test_writes (n serial PRIMARY KEY, status text, body boolean)`);
      d.exec(`CREATE FUNCTION test_writes() RETURNS trigger AS $$ BEGIN INSERT INTO test_writes (status, body) VALUES (NEW.status, NEW.text_body IS NOT NULL); RETURN NEW; END $$ LANGUAGE plpgsql`);
      d.exec(`CREATE TRIGGER test_writes AFTER UPDATE ON staged_mails FOR EACH ROW EXECUTE FUNCTION test_writes()`);
    }
    const out = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    expect(out.status).toBe("complete");
    const writes = rows(d, "SELECT status, body FROM test_writes ORDER BY n").map((w) => ({ status: w.status, body: Boolean(w.body) }));
    expect(writes).toEqual([{ status: "complete", body: false }]);
    expect(rows(d, "SELECT from_address, subject FROM staged_mails WHERE id = ?", out.stagedId)[0]).toEqual({ from_address: "alice@customer.example", subject: "My order 1042 has not arrived" });
  });

  it("extracts attachments to files named by content hash, never by the name in the mail", () => {
    const out = ingest(sb, readFixture("attachments-stored-by-hash.eml"));
    expect(out.status).toBe("complete");
    const d = db(sb);
    const atts = rows(d, "SELECT * FROM attachments WHERE staged_mail_id = ? ORDER BY id", out.stagedId);
    expect(atts.map((a) => a.filename)).toEqual(["invoice 1042.pdf", "../../../etc/passwd"]);
    expect(atts.map((a) => a.content_type)).toEqual(["application/pdf", "image/png"]);
    expect(atts[1].content_id).toBe("<photo1@customer.example>");
    const attDir = join(sb.dir, "attachments");
    for (const a of atts) {
      // PostgreSQL keeps the bytes in the database, by the same hash (issue 11.8).
      if (onPostgres) expect(a.stored_path).toBe(`blob:${a.sha256}`);
      else expect(relative(attDir, a.stored_path).startsWith("..")).toBe(false);
      expect(a.stored_path.endsWith(a.sha256)).toBe(true);
      expect(storedBytes(d, a.stored_path).length).toBe(a.size);
      expect(a.action_id).toBe(out.actionIds[0]);
    }
    expect(storedBytes(d, atts[0].stored_path).toString("latin1")).toMatch(/^%PDF-1\.4/);
    expect(existsSync(join(sb.dir, "etc"))).toBe(false);
  });

  it("stages mail without a subject as invalid and does not process it", () => {
    const out = ingest(sb, readFixture("no-subject-is-invalid.eml"));
    expect(out).toMatchObject({ status: "invalid", issues: [], interactionId: null, reason: "the message has no subject" });
    const d = db(sb);
    expect(count(d, "issues")).toBe(0);
    expect(count(d, "interactions")).toBe(0);
    expect(count(d, "staged_mails", "status = 'invalid'")).toBe(1);
  });

  it("resubmit --subject supplies the missing subject and processes the mail", () => {
    const first = ingest(sb, readFixture("no-subject-is-invalid.eml"));
    const r = run(sb, ["resubmit", String(first.stagedId), "--subject", "Forgot the subject", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ stagedId: first.stagedId, status: "complete", issues: [{ created: true }] });
    const d = db(sb);
    expect(rows(d, "SELECT subject FROM issues ORDER BY id")[0].subject).toBe("Forgot the subject");
    const history = rows(d, "SELECT status, note FROM staged_mail_status_history WHERE staged_mail_id = ? ORDER BY id", first.stagedId);
    expect(history.map((h) => h.status)).toEqual(["new", "in_process", "invalid", "new", "in_process", "workflow", "complete"]);
    expect(history[3].note).toContain("Forgot the subject");
  });

  it("refuses to resubmit a complete record (exit 64) and names the reason", () => {
    const out = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const r = run(sb, ["resubmit", String(out.stagedId)]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/complete.*already been processed/);
    expect(count(db(sb), "actions")).toBe(1);
  });

  it("a processing failure after staging is status error with its text; exit 0; resubmit completes it", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml")); // migrate and create issue 1
    const d = db(sb);
    // A fault the database raises mid-workflow, from outside the product: no test hook in the code.
    const fault = { name: "fail_interactions", table: "interactions", on: "INSERT", message: "simulated storage fault" };
    injectFault(d, fault);
    const logFile = join(sb.dir, "ingest.log");
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ ...config, logFile }));
    const r = run(sb, ["--json"], readFixture("second-mail-same-sender.eml"));
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.status).toBe("error");
    expect(out.error).toContain("simulated storage fault");
    const staged = rows(d, "SELECT status, error FROM staged_mails WHERE id = ?", out.stagedId)[0];
    expect(staged.status).toBe("error");
    expect(staged.error).toContain("simulated storage fault");
    // Its first stack frame names the source file and line it came from, not a place in the
    // minified bundle (src/pipeline/source-frames.ts).
    // The place alone: the minifier's name for the function ("at Nm (…)") would only mislead.
    expect(staged.error).toMatch(/ at (async )?(src|node_modules)\/[^\s()]+\.[cm]?[jt]s:\d+:\d+$/);
    expect(staged.error).not.toMatch(/\.cjs:\d+/);
    // Nothing of the failed workflow was half-written: no new identification use, no issue, no action.
    expect(count(d, "issues")).toBe(1);
    expect(count(d, "actions")).toBe(1);
    expect(readFileSync(logFile, "utf8")).toMatch(new RegExp(`staged mail ${out.stagedId} error: .*simulated storage fault`));
    removeFault(d, fault);
    const again = run(sb, ["resubmit", String(out.stagedId), "--json"]);
    expect(again.code).toBe(0);
    // A new issue (on PostgreSQL the rolled-back one used up an id of the sequence: any id).
    expect(again.json()).toMatchObject({ status: "complete", issues: [{ created: true }] });
    expect(count(d, "issues")).toBe(2);
  });

  it("a redelivery (same Message-ID) is staged as duplicate and creates nothing", () => {
    const first = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const again = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    expect(again).toMatchObject({ status: "duplicate", duplicateOf: first.stagedId, issues: [], actionIds: [] });
    const d = db(sb);
    expect(count(d, "staged_mails")).toBe(2);
    expect(count(d, "issues")).toBe(1);
    expect(count(d, "interactions")).toBe(1);
    expect(count(d, "actions")).toBe(1);
  });

  it("without a Message-ID, a redelivery is recognised by content hash; other content is not", () => {
    const mail = readFixture("no-message-id-dedup-by-hash.eml");
    const first = ingest(sb, mail);
    expect(first.status).toBe("complete");
    expect(ingest(sb, mail)).toMatchObject({ status: "duplicate", duplicateOf: first.stagedId });
    const changed = Buffer.concat([mail, Buffer.from("P.S. one more line\n")]);
    expect(ingest(sb, changed).status).toBe("complete");
    expect(count(db(sb), "issues")).toBe(2);
  });
});

describe("§2 who wrote", () => {
  it("an unknown sender gets a new identification with names from the display name", () => {
    const out = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const ident = rows(db(sb), "SELECT * FROM user_identifications WHERE id = ?", out.userIdentificationId)[0];
    expect(ident).toMatchObject({ email: "alice@customer.example", first_names: "Alice", last_name: "Smith", user_id: null });
  });

  it('"Last, First" display names are split the other way round', () => {
    const out = ingest(sb, readFixture("display-name-last-first.eml"));
    expect(rows(db(sb), "SELECT first_names, last_name FROM user_identifications WHERE id = ?", out.userIdentificationId)[0]).toEqual({
      first_names: "Jane Mary",
      last_name: "Doe",
    });
  });

  it("the same address (any case) reuses the first identification, and opens a new issue without ids", () => {
    const a = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const b = ingest(sb, readFixture("second-mail-same-sender.eml"));
    expect(b.userIdentificationId).toBe(a.userIdentificationId);
    expect(b.issues[0]).toMatchObject({ created: true, issueId: 2 });
    expect(count(db(sb), "user_identifications")).toBe(1);
  });

  it("a registered user's mail uses the user's first identification (created on first mail)", () => {
    initDb(sb); // admin commands never create a database (issue 10)
    const u = run(sb, ["user", "add", "--email", "Bob@Member.example", "--name", "Bob Jones", "--json"]);
    expect(u.code).toBe(0);
    const userId = u.json().id;
    const first = ingest(sb, readFixture("registered-user-mail.eml"));
    const d = db(sb);
    expect(rows(d, "SELECT user_id, email FROM user_identifications WHERE id = ?", first.userIdentificationId)[0]).toEqual({ user_id: userId, email: null });
    const again = ingest(sb, readFixture("registered-user-mail.eml").toString().replace("<registered-user-mail@", "<registered-user-mail-2@"));
    expect(again.userIdentificationId).toBe(first.userIdentificationId);
    expect(first.trace.find((t: any) => t.step === "identify").reason).toContain(`registered user ${userId}`);
  });

  // Unsigned ids (typed by hand) count from the issue's customer, when the MTA gives the recipient
  // (issue 10: ids read from a header count only when signed).
  it.each([
    ["plus form", "reply-via-plus-address.eml", "service+1-1@example.test"],
    ["ACS dash form", "reply-via-acs-dash-address.eml", "service-1-1@example.test"],
  ])("Case 1 (%s): ids in the recipient address append to that issue", (_form, file, recipient) => {
    const first = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    expect(first.issues[0].issueId).toBe(1);
    expect(first.userIdentificationId).toBe(1);
    const fromHeader = ingest(sb, readFixture(file));
    expect(fromHeader.trace).toContainEqual({ step: "identify", decision: "ignore address ids (Case 2)", reason: "ids 1-1 ignored: unsigned ids in a header address count only when signed" });
    const reply = ingest(sb, readFixture(file).toString().replace("Message-ID: <", "Message-ID: <again-"), [recipient]);
    expect(reply.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: false, reopened: false, matchedBy: "address-ids", state: "todo" }]);
    expect(reply.userIdentificationId).toBe(1);
    expect(count(db(sb), "actions", "issue_id = 1")).toBe(2);
  });

  it("Case 1 with the envelope recipient from the command line (procmail \"$1\", Postfix ${recipient})", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const mail = readFixture("second-mail-same-sender.eml");
    expect(ingest(sb, mail, ["service+1-1@example.test"]).issues[0]).toMatchObject({ issueId: 1, matchedBy: "address-ids" });
    const viaEnv = run({ ...sb, env: { ...sb.env, ORIGINAL_RECIPIENT: "service+1-1@example.test" } }, ["--json"], mail.toString().replace("<second-mail", "<third-mail"));
    expect(viaEnv.json().issues[0]).toMatchObject({ issueId: 1, matchedBy: "address-ids" });
  });

  it("Case 1 reopens a resolved issue (resolved → todo)", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    expect(run(sb, ["issue", "set-state", "1", "resolved"]).code).toBe(0);
    const reply = ingest(sb, readFixture("reply-via-plus-address.eml"), ["service+1-1@example.test"]);
    expect(reply.issues[0]).toMatchObject({ issueId: 1, reopened: true, state: "todo" });
    expect(rows(db(sb), "SELECT state, new_info FROM issues WHERE id = 1")[0]).toEqual({ state: "todo", new_info: 1 });
  });

  it("tampered ids (issue not of that identification) are ignored: Case 2, reason in the trace", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const out = ingest(sb, readFixture("tampered-address-ids.eml"), ["service+7-1@example.test"]);
    expect(out.issues[0]).toMatchObject({ created: true, issueId: 2, matchedBy: null });
    expect(out.userIdentificationId).not.toBe(1);
    const step = out.trace.find((t: any) => t.decision.includes("Case 2"));
    expect(step.reason).toBe("ids 7-1 ignored: unsigned ids count only from the issue's customer or a participant");
    expect(count(db(sb), "actions", "issue_id = 1")).toBe(1);
  });

  it("without an envelope recipient, Delivered-To naming a support address is the recipient", () => {
    const out = ingest(sb, readFixture("recipient-from-delivered-to.eml"));
    expect(out.trace.find((t: any) => t.step === "recipient")).toMatchObject({ decision: "billing@example.test", reason: "from Delivered-To/X-Original-To" });
    expect(rows(db(sb), "SELECT recipient FROM issues ORDER BY id")[0].recipient).toBe("billing@example.test");
  });
});

describe("§7 recording", () => {
  it("one interaction (customer, email, header block) and one action with the body text", () => {
    const out = ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const d = db(sb);
    const inter = rows(d, "SELECT * FROM interactions WHERE id = ?", out.interactionId)[0];
    expect(inter).toMatchObject({ originator: "customer", type: "email", user_identification_id: out.userIdentificationId, staged_mail_id: out.stagedId });
    expect(inter.headers).toContain("Subject: My order 1042 has not arrived");
    expect(inter.headers).toContain("Message-ID: <new-mail-opens-issue@customer.example>");
    const actions = rows(d, "SELECT * FROM actions ORDER BY id");
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ issue_id: out.issues[0].issueId, interaction_id: out.interactionId });
    expect(actions[0].details).toContain("I ordered a kettle two weeks ago");
    expect(out.actionIds).toEqual([actions[0].id]);
  });

  it("HTML-only mail is converted to text for the action", () => {
    const out = ingest(sb, readFixture("html-only-converted-to-text.eml"));
    const details = rows(db(sb), "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details;
    expect(details).toContain("The checkout page shows an error.");
    expect(details).not.toMatch(/<\/?(p|b|ul|li|html)>/);
    expect(details).toMatch(/Step one/);
  });

  it("a body in no charset it declares is read as Windows-1252, as its encoded Subject is, and the trace says so", () => {
    // A PHP contact form: 8-bit Windows-1252 text with no charset (RFC 2045 §5.2 would say US-ASCII).
    const out = ingest(sb, readFixture("no-charset-8bit-body-read-as-windows-1252.eml"));
    const details = rows(db(sb), "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details as string;
    expect(details).toContain("die Rechnung für März (Nr. 2026-0311) ist falsch: Sie haben € 120 berechnet,");
    expect(details).toContain("„schnell“ korrigieren?");
    expect(details).not.toContain("\uFFFD");
    const show = run(sb, ["show", String(out.stagedId), "--json"]).json();
    expect(show).toMatchObject({ subject: "„Rechnung März“ – falscher Betrag", fromName: "Jürgen Müller" });
    expect(show.trace).toContainEqual(expect.objectContaining({ step: "parse", decision: "text read as windows-1252" }));
  });

  // Outlook and Exchange send a customer's files inside winmail.dat (application/ms-tnef) to anyone
  // they take for another Outlook: the issue gets the files, not one opaque winmail.dat.
  it("winmail.dat is stored as the files it holds, with their names and types, in its place", () => {
    const out = ingest(sb, readFixture("outlook-winmail-dat-unpacked-into-its-files.eml"));
    expect(out.status).toBe("complete");
    const d = db(sb);
    const atts = rows(d, "SELECT * FROM attachments WHERE staged_mail_id = ? ORDER BY id", out.stagedId);
    expect(atts.map((a) => [a.filename, a.content_type, a.size])).toEqual([
      ["Rechnung März.pdf", "application/pdf", 110],
      // No MIME tag in the stream: the type is the one its name says, as for any part.
      ["screenshot.png", "image/png", 29],
    ]);
    expect(storedBytes(d, atts[0].stored_path).toString("latin1")).toMatch(/^%PDF-1\.4/);
    expect(storedBytes(d, atts[1].stored_path).subarray(0, 4).toString("hex")).toBe("89504e47");
    expect(atts.every((a) => a.action_id === out.actionIds[0])).toBe(true);
    expect(rows(d, "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details).toContain("die Rechnung für März ist falsch berechnet");
    expect(out.trace).toContainEqual(expect.objectContaining({ step: "parse", decision: "winmail.dat unpacked" }));
  });

  // Outlook's "attach as item" (or a mail forwarded as an attachment) inside winmail.dat: the issue
  // gets the .eml any other client would have attached, with the mail's headers, text and files.
  it("a mail attached inside winmail.dat is stored as an .eml that opens as that mail; the same winmail.dat gives the same file", async () => {
    const out = ingest(sb, readFixture("winmail-dat-attached-mail-stored-as-eml.eml"));
    expect(out.status).toBe("complete");
    const d = db(sb);
    const atts = rows(d, "SELECT filename, content_type, sha256, stored_path FROM attachments WHERE staged_mail_id = ?", out.stagedId);
    expect(atts.map((a) => [a.filename, a.content_type])).toEqual([["Lieferung 2026-0512 verzögert.eml", "message/rfc822"]]);
    const mail = await simpleParser(storedBytes(d, atts[0].stored_path));
    const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
    expect([mail.from?.value[0], to?.value[0].address, mail.subject, mail.date?.toISOString(), mail.messageId]).toEqual([
      { name: "Spedition Nord GmbH", address: "dispo@spedition-nord.example" },
      "einkauf@kunde.example",
      "Lieferung 2026-0512 verzögert",
      "2026-12-07T15:42:10.000Z",
      "<8f2e1c@mail.spedition-nord.example>",
    ]);
    expect(mail.text).toContain("die Lieferung 2026-0512 verzögert sich wegen Straßensperrung um zwei Tage.");
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.content.toString("latin1").startsWith("%PDF-1.4")])).toEqual([["Lieferschein 2026-0512.pdf", "application/pdf", true]]);
    expect(rows(d, "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details).toContain("Können Sie den Liefertermin im Auftrag anpassen?");
    expect(out.trace).toContainEqual(expect.objectContaining({ step: "parse", decision: "winmail.dat unpacked", reason: expect.stringContaining("1 file (an attached mail, written out as .eml)") }));
    // Sent again a minute later (another mail, the same winmail.dat): the same bytes, not a new boundary or a made-up Date.
    const later = ingest(sb, Buffer.from(readFixture("winmail-dat-attached-mail-stored-as-eml.eml").toString("latin1").replace("08:05:31", "08:06:31"), "latin1"));
    expect(later.stagedId).not.toBe(out.stagedId);
    expect(rows(d, "SELECT sha256 FROM attachments WHERE staged_mail_id = ?", later.stagedId)).toEqual([{ sha256: atts[0].sha256 }]);
  });

  it.each([
    ["in plain text (attBody)", "winmail-dat-only-text-read-from-it.eml", ["Guten Tag,\n\nder Drucker im 2. Stock druckt seit heute früh nicht mehr."], "fehler.txt", "text/plain", "the message has no text besides what winmail.dat holds"],
    [
      "as HTML wrapped in compressed RTF",
      "winmail-dat-rtf-body-read-from-it.eml",
      ["der Beamer im Raum 4.12 zeigt kein Bild mehr („Kein Signal“).", "Viele Grüße,\nJan Becker"],
      "beamer.jpg",
      "image/jpeg",
      "the message has no text besides what winmail.dat holds, from its RTF (HTML wrapped in RTF, MS-OXRTFEX)",
    ],
  ])("a message that is winmail.dat alone, its text kept %s, takes that text", (_how, fixtureName, texts, filename, contentType, reason) => {
    const out = ingest(sb, readFixture(fixtureName));
    expect(out.status).toBe("complete");
    const d = db(sb);
    const details = rows(d, "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details as string;
    for (const t of texts) expect(details).toContain(t);
    // Outlook's CRLF line ends become LF, as any text's; no RTF or HTML is left in it.
    expect(details).not.toMatch(/\r|<p>|\\rtf|htmltag/);
    expect(rows(d, "SELECT filename, content_type FROM attachments WHERE staged_mail_id = ?", out.stagedId)).toEqual([{ filename, content_type: contentType }]);
    expect(out.trace).toContainEqual({ step: "parse", decision: "text from winmail.dat", reason });
  });

  it("an S/MIME opaque-signed message (its text inside the signature) gets its text and attachment out of it", () => {
    const out = ingest(sb, readFixture("smime-opaque-signed-text-and-attachment-unwrapped.eml"));
    expect(out.status).toBe("complete");
    const d = db(sb);
    expect(rows(d, "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details).toContain("die Lieferung 2026-0417 ist unvollständig: es fehlen zwei Kartons.");
    const atts = rows(d, "SELECT filename, content_type, stored_path FROM attachments WHERE staged_mail_id = ?", out.stagedId);
    expect(atts.map((a) => [a.filename, a.content_type])).toEqual([["lieferschein.csv", "text/csv"]]);
    expect(storedBytes(d, atts[0].stored_path).toString()).toBe("Position;Menge\r\n1;12\r\n2;4");
    expect(out.trace.filter((t: { step: string }) => t.step === "parse").map((t: { decision: string }) => t.decision)).toEqual(["s/mime signed-data unwrapped"]);
  });

  it("an encrypted message is recorded with no text, and the trace says why", () => {
    const message = `From: a@customer.example\nTo: service@example.test\nSubject: Vertraulich\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\n\n--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--b\nContent-Type: application/octet-stream; name=encrypted.asc\n\n-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n--b--\n`;
    const out = ingest(sb, Buffer.from(message));
    expect(out.status).toBe("complete");
    expect(out.trace).toContainEqual({ step: "parse", decision: "encrypted", reason: "the message is encrypted (PGP/MIME, RFC 3156): its text cannot be read without the recipient's key; the raw message keeps it" });
  });

  it("a winmail.dat with no files in it is kept as it came; the message's own text stays its text", () => {
    const tnef = writeTnef({ rtf: Buffer.from("LZFu compressed RTF") }).toString("base64");
    const message = `From: a@customer.example\nTo: service@example.test\nSubject: RTF only\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nThe printer is broken.\n--b\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n\n${tnef}\n--b--\n`;
    const out = ingest(sb, Buffer.from(message));
    expect(rows(db(sb), "SELECT filename, content_type FROM attachments WHERE staged_mail_id = ?", out.stagedId)).toEqual([{ filename: "winmail.dat", content_type: "application/ms-tnef" }]);
    expect(out.trace).toContainEqual(expect.objectContaining({ step: "parse", decision: "winmail.dat kept" }));
    expect(rows(db(sb), "SELECT details FROM actions WHERE id = ?", out.actionIds[0])[0].details).toContain("The printer is broken.");
  });
});

describe("§8 talking to the MTA", () => {
  it("a database URL of a mistyped scheme is refused, never created as a file: 75 with a message, 78 for an admin command (issue 11.2)", () => {
    const sb = sandbox();
    const env = { ...sb.env, INGEST_MAIL_DB: "postgress://ingest:secret@db.example/helpdesk" };
    const r = run({ ...sb, env }, [], readFixture("new-mail-opens-issue.eml"), { cwd: sb.dir });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/is a URL of a scheme ingest-mail does not know/);
    expect(r.stderr).not.toMatch(/secret/);
    expect(run({ ...sb, env }, ["list"], undefined, { cwd: sb.dir }).code).toBe(78);
    expect(readdirSync(sb.dir).filter((f) => f.startsWith("postgress"))).toEqual([]);
  });

  it("with a message on stdin: 0 or 75, whatever went wrong; 64 and 78 only without one (issue 9.4)", () => {
    const message = readFixture("new-mail-opens-issue.eml");
    expect(run(sb, ["--no-such-flag"], message).code).toBe(75);
    expect(run(sb, ["--no-such-flag"], "").code).toBe(64);
    expect(run(sb, ["show", "abc"]).code).toBe(64);
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ referencePrefx: "X-" }));
    const bad = run(sb, [], message);
    expect(bad.code).toBe(75);
    expect(bad.stderr).toContain('unknown key "referencePrefx"');
    expect(run(sb, [], "").code).toBe(78);
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, "{ not json");
    expect(run(sb, [], message).code).toBe(75);
    expect(run(sb, ["--config", join(sb.dir, "missing.json")], message).code).toBe(75);
    expect(run(sb, ["--config", join(sb.dir, "missing.json")], "").code).toBe(78);
  });

  it("exit 0 and one human line without --json", () => {
    const r = run(sb, [], readFixture("new-mail-opens-issue.eml"));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("staged 1: complete; new CS-000001 [todo]");
  });

  it("exit 75 when the database cannot be written; nothing is half-written", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const d = db(sb);
    // Another process holds the write lock past our busy timeout: a storage fault → temporary failure.
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ ...config, busyTimeoutMs: 200 }));
    const release = holdWriteLock(d);
    const r = run(sb, ["--json"], readFixture("attachments-stored-by-hash.eml"));
    release();
    expect(r.code).toBe(75);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(new RegExp(`could not store the message: .*${LOCKED.source}.*the MTA will retry`));
    expect(count(d, "staged_mails")).toBe(1);
    expect(count(d, "attachments")).toBe(0);
    const attDir = join(sb.dir, "attachments");
    const files = existsSync(attDir) ? readdirSync(attDir, { recursive: true }).filter((f) => !statSync(join(attDir, String(f))).isDirectory()) : [];
    expect(files).toEqual([]);
  });
});

describe("§1 staging: a failed staging and its redelivery", () => {
  // A spool file is named by its content: a failed staging leaves it (another delivery of the same
  // bytes may have staged on it), and the MTA's redelivery stages on the very same file.
  it("a large mail whose staging failed keeps its spool file; the redelivery stages on it and gives back the same bytes", (ctx) => {
    sqliteOnly(ctx, "PostgreSQL keeps the bytes in the database, not in this host's spool (issue 11.8)");
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const d = db(sb);
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ ...config, busyTimeoutMs: 200 }));
    const big = Buffer.from(`From: a@customer.example\nTo: service@example.test\nSubject: big\nMessage-ID: <big-retry@customer.example>\n\n${"line of a large mail\n".repeat(80_000)}`);
    const release = holdWriteLock(d);
    const failed = run(sb, [], big);
    release();
    expect(failed.code).toBe(75);
    const spool = join(sb.dir, "spool");
    const kept = readdirSync(spool).filter((f) => !f.startsWith("."));
    expect(kept).toHaveLength(1);
    const again = ingest(sb, big);
    expect(again.status).toBe("complete");
    expect(readdirSync(spool).filter((f) => !f.startsWith("."))).toEqual(kept);
    expect(rows(d, "SELECT raw_path FROM staged_mails WHERE id = ?", again.stagedId)[0].raw_path).toBe(join(spool, kept[0]));
    expect(run(sb, ["show", String(again.stagedId), "--raw"]).stdout).toBe(big.toString());
  });
});

describe("admin commands", () => {
  it("list shows staged mail newest first; show gives components, history, attachments and links", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const att = ingest(sb, readFixture("attachments-stored-by-hash.eml"));
    ingest(sb, readFixture("no-subject-is-invalid.eml"));
    const list = run(sb, ["list", "--json"]).json();
    expect(list.staged.map((s: any) => s.status)).toEqual(["invalid", "complete", "complete"]);
    expect(run(sb, ["list", "--status", "invalid", "--json"]).json().staged).toHaveLength(1);
    const table = run(sb, ["list"]).stdout;
    expect(table.split("\n")[0]).toMatch(/^ID\s+RECEIVED\s+STATUS/);
    expect(table).not.toMatch(/\u001b\[/); // NO_COLOR
    const show = run(sb, ["show", String(att.stagedId), "--json"]).json();
    expect(show.history.map((h: any) => h.status)).toEqual(["new", "in_process", "workflow", "complete"]);
    expect(show.attachments).toHaveLength(2);
    expect(show.links.actions).toEqual([{ issueId: att.issues[0].issueId, actionId: att.actionIds[0] }]);
    expect(show.trace.length).toBeGreaterThan(3);
    expect(run(sb, ["show", "999"]).code).toBe(66);
    expect(run(sb, ["show", String(att.stagedId)]).stdout).toContain("invoice 1042.pdf");
  });

  it("issue show prints the issue with its actions", () => {
    ingest(sb, readFixture("new-mail-opens-issue.eml"));
    const r = run(sb, ["issue", "show", "1", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ id: 1, reference: "CS-000001", kind: "ticket", state: "todo", customerEmail: "alice@customer.example" });
    expect(r.json().actions).toHaveLength(1);
  });

  it("--help explains the ingest command and its exit codes", () => {
    const r = run(sb, ["ingest", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--recipient/);
    expect(r.stdout).toMatch(/75/);
  });
});

it("fixtures used here exist", () => {
  expect(existsSync(fixture("new-mail-opens-issue.eml"))).toBe(true);
});
