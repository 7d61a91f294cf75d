// issue 13: reading delivery reports (RFC 3464, RFC 6533, RFC 5965, plain-text bounces) and the
// signed VERP bounce address. Pure functions, tables.
import { describe, expect, it } from "vitest";
import { bounceAddress, hasBounceForm, parseBounceAddress } from "../../src/rules/bounce-address.js";
import { cleanText, readReport, verdictOf, type DeliveryReport } from "../../src/rules/dsn.js";

const dsn = (fields: string, original = "", extra = "") =>
  [
    "From: MAILER-DAEMON@mx.example",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    "",
    "--B",
    "Content-Type: text/plain",
    "",
    "Delivery failed.",
    "--B",
    `Content-Type: message/delivery-status${extra}`,
    "",
    fields,
    ...(original ? ["--B", original] : []),
    "--B--",
    "",
  ].join("\r\n");

const perRecipient = (action: string, status: string, diag = "smtp; 550 5.1.1 user unknown") => `Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: ${action}\r\nStatus: ${status}\r\nDiagnostic-Code: ${diag}\r\n`;

describe("readReport", () => {
  it.each<[string, string, Partial<DeliveryReport>]>([
    ["RFC 3464 with message/rfc822", dsn(perRecipient("failed", "5.1.1"), "Content-Type: message/rfc822\r\n\r\nFrom: a@b\r\nMessage-ID: <m1@ours>\r\n\r\nbody"), { kind: "delivery-status", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 user unknown", finalRecipient: "bob@example.org", originalMessageIds: ["<m1@ours>"] }],
    ["text/rfc822-headers", dsn(perRecipient("failed", "5.2.2", "smtp; 552 full"), "Content-Type: text/rfc822-headers\r\n\r\nMessage-Id: <m2@ours>\r\n"), { status: "5.2.2", diagnostic: "552 full", originalMessageIds: ["<m2@ours>"] }],
    ["Original-Envelope-Id", dsn(`Original-Envelope-Id: m3@ours\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; b@x\r\nAction: failed\r\nStatus: 5.4.4\r\n`), { envelopeId: "m3@ours", status: "5.4.4", originalMessageIds: [] }],
    ["a delay", dsn(perRecipient("delayed", "4.4.1", "X-Postfix; timed out")), { action: "delayed", status: "4.4.1", diagnostic: "timed out" }],
    ["the failed recipient is reported before a delivered one", dsn(`Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; ok@x\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\nFinal-Recipient: rfc822; bad@x\r\nAction: failed\r\nStatus: 5.1.1\r\n`), { action: "failed", status: "5.1.1", finalRecipient: "bad@x" }],
    ["a base64 delivery-status part", dsn(Buffer.from(perRecipient("failed", "5.7.1").replace(/\r\n/g, "\n")).toString("base64"), "", "\r\nContent-Transfer-Encoding: base64"), { status: "5.7.1" }],
    ["RFC 6533 global-delivery-status", dsn(perRecipient("failed", "5.1.10")).replace("message/delivery-status", "message/global-delivery-status"), { kind: "delivery-status", status: "5.1.10" }],
    ["a folded Diagnostic-Code", dsn(perRecipient("failed", "5.1.1", "smtp; 550 5.1.1 <b@x>: Recipient\r\n    rejected")), { diagnostic: "550 5.1.1 <b@x>: Recipient rejected" }],
    [
      "ARF inside multipart/mixed",
      'Content-Type: multipart/mixed; boundary="O"\n\n--O\nContent-Type: text/plain\n\nhi\n--O\nContent-Type: multipart/report; report-type=feedback-report; boundary="I"\n\n--I\nContent-Type: message/feedback-report\n\nFeedback-Type: Abuse\nVersion: 1\n--I\nContent-Type: text/rfc822-headers\n\nMessage-ID: <m4@ours>\n--I--\n--O--\n',
      { kind: "feedback", action: "feedback", status: "abuse", originalMessageIds: ["<m4@ours>"] },
    ],
    [
      "a read receipt (MDN)",
      'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\n\n--M\nContent-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; bob@x\nDisposition: automatic-action/MDN-sent-automatically; displayed\n--M\nContent-Type: text/rfc822-headers\n\nMessage-ID: <m7@ours>\n--M--\n',
      { kind: "disposition", action: "displayed", status: null, originalMessageIds: ["<m7@ours>"] },
    ],
    ["a qmail text bounce quoting headers", "From: MAILER-DAEMON@x\nSubject: failure notice\n\n<bob@x>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\nMessage-ID: <m5@ours>\nSubject: hi\n", { kind: "text", status: "5.1.1", diagnostic: "Sorry, no mailbox here by that name. (#5.1.1)", originalMessageIds: ["<m5@ours>"] }],
    ["quoted (> ) header lines are not the original's", "From: alice@x\nSubject: Fwd\n\n> Message-ID: <m6@ours>\n", { kind: "text", originalMessageIds: [], status: null }],
    ["the report's own Message-ID is not the original's", "Message-ID: <self@mx>\nSubject: x\n\nno original here", { originalMessageIds: [] }],
    ["version-like numbers are no status code", "Subject: x\n\nPostfix 3.5.10.1 on host 10.1.2.3", { status: null }],
    // RFC 3463 X.0.0 is the class alone: the receiving server's specific code of the same class, quoted in Diagnostic-Code, says more.
    ["Status 5.0.0, the server's 5.7.1 in Diagnostic-Code", dsn(perRecipient("failed", "5.0.0", "smtp; 550 5.7.1 Fix reverse DNS")), { status: "5.7.1", diagnostic: "550 5.7.1 Fix reverse DNS" }],
    ["Status 4.0.0, the server's 4.7.1", dsn(perRecipient("delayed", "4.0.0", "smtp; 451 4.7.1 greylisted")), { status: "4.7.1" }],
    ["Status 5.0.0 kept when the diagnostic quotes another class", dsn(perRecipient("failed", "5.0.0", "smtp; 554 gave up <421 4.4.2 timed out>")), { status: "5.0.0" }],
    ["Status 5.0.0 kept when the diagnostic has no code", dsn(perRecipient("failed", "5.0.0", "smtp; 550 rejected")), { status: "5.0.0" }],
    ["Status 5.0.0 kept when the code-like text is inside a name", dsn(perRecipient("failed", "5.0.0", "smtp; 550 no mailbox user5.1.2@example.org")), { status: "5.0.0" }],
    ["a specific Status is kept whatever the diagnostic says", dsn(perRecipient("failed", "5.1.1", "smtp; 550 5.7.1 blocked")), { status: "5.1.1" }],
    [
      "a text bounce's session transcript: the failure, not the 250 2.0.0 before it",
      "From: MAILER-DAEMON@x\nSubject: errors\n\n Out: 250 2.0.0 Ok\n In:  DATA\n Out: 451 4.3.0 Error: queue file write error\n",
      { kind: "text", status: "4.3.0", diagnostic: "Out: 451 4.3.0 Error: queue file write error" },
    ],
    // Versions in a text bounce's quoted headers are no codes: "MOS 4.4.4b-GA", "mxl_mta-5.5.0-3", "Lotus SMTP MTA v4.6.1".
    ["a version is no status code", "From: MAILER-DAEMON@x\nSubject: failed\n\nReceived: by mx (MOS 4.4.4b-GA) and mxl_mta-5.5.0-3 and v4.6.1\n\n550 5.1.1 User unknown\n", { kind: "text", status: "5.1.1", diagnostic: "550 5.1.1 User unknown" }],
    ["a multi-line SMTP reply's code", "From: MAILER-DAEMON@x\nSubject: failed\n\nRemote said: 550-5.1.1 The email account does not exist\n", { kind: "text", status: "5.1.1" }],
    [
      "a quoted-printable text bounce whose soft line break splits the code",
      'From: mailer-daemon@x\nSubject: Undelivered\nContent-Type: multipart/mixed; boundary="P"\n\n--P\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nkiji@example.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.=\n1 <kiji@example.jp>... User Unknown\n--P--\n',
      { kind: "text", status: "5.1.1" },
    ],
    [
      "a base64 text bounce, with the original's Message-ID line in it",
      `From: MAILER-DAEMON@x\nSubject: failed\nContent-Transfer-Encoding: base64\n\n${Buffer.from("550 5.4.1 Recipient address rejected\n\nMessage-ID: <m8@ours>\n").toString("base64")}\n`,
      { kind: "text", status: "5.4.1", diagnostic: "550 5.4.1 Recipient address rejected", originalMessageIds: ["<m8@ours>"] },
    ],
    ["a text report with only a success code keeps it", "From: MAILER-DAEMON@x\nSubject: relayed\n\n250 2.0.0 Ok: queued as 4Xyz\n", { kind: "text", status: "2.0.0" }],
  ])("%s", (_l, raw, want) => {
    expect(readReport(raw)).toMatchObject(want);
  });

  it("stays linear on a hostile message (many boundaries, a 2 MB body)", () => {
    const raw = 'Content-Type: multipart/report; boundary="a"\n\n' + "--a\n".repeat(100_000) + "x".repeat(2_000_000);
    const t = performance.now();
    readReport(raw);
    readReport("Subject: x\n\n" + "5.".repeat(500_000));
    readReport("Subject: x\n\n" + "550-5.5.5-".repeat(200_000));
    readReport(dsn(perRecipient("failed", "5.0.0", `smtp; ${"5.1.1b ".repeat(100_000)}`)));
    readReport("Subject: x\n\n" + "message-id: <".repeat(100_000));
    expect(performance.now() - t).toBeLessThan(1500);
  });

  it("cleans diagnostics for a terminal: no control or bidi characters, bounded", () => {
    expect(cleanText("550 \u001b[31mred\u202e\r\n  done")).toBe("550 [31mred done");
    expect(cleanText("x".repeat(2000))).toHaveLength(500);
  });
});

describe("verdictOf", () => {
  const r = (o: Partial<DeliveryReport>): DeliveryReport => ({ kind: "delivery-status", action: null, status: null, diagnostic: null, finalRecipient: null, envelopeId: null, originalMessageIds: [], ...o });
  it.each<[string, DeliveryReport, boolean, string]>([
    ["failed", r({ action: "failed", status: "5.1.1" }), false, "bounced"],
    ["failed with a 4.x status (gave up)", r({ action: "failed", status: "4.4.7" }), false, "bounced"],
    ["delayed", r({ action: "delayed", status: "4.4.1" }), false, "delayed"],
    ["delivered (a success DSN)", r({ action: "delivered", status: "2.0.0" }), false, "delivered"],
    ["no action, 5.x", r({ status: "5.0.0" }), false, "bounced"],
    ["a complaint", r({ kind: "feedback", action: "feedback", status: "abuse" }), false, "feedback"],
    ["text with a code", r({ kind: "text", status: "5.1.1" }), false, "bounced"],
    ["text, a delay subject", r({ kind: "text", status: "4.4.1" }), true, "delayed"],
    ["text without a code", r({ kind: "text" }), false, "unknown"],
    ["a read receipt", r({ kind: "disposition", action: "displayed" }), false, "delivered"],
  ])("%s → %s", (_l, report, delay, want) => {
    expect(verdictOf(report, delay)).toBe(want);
  });
});

describe("the signed bounce address", () => {
  it.each<[string, string | null, string | null]>([
    ["service@example.test", "s", "service+bounce-42-"],
    ["Customer Service <service@example.test>", "s", "service+bounce-42-"],
    ["service+tag@example.test", "s", "service+bounce-42-"],
    ["service@example.test", null, "service+bounce-42@example.test"],
    ["no address", "s", null],
  ])("built on %s", (from, secret, prefix) => {
    const a = bounceAddress(from, 42, secret);
    if (prefix === null) return expect(a).toBeNull();
    expect(a!.startsWith(prefix)).toBe(true);
    expect(parseBounceAddress(a, secret)).toEqual({ outboundId: 42, verified: true });
  });

  it.each<[string, string | null, object]>([
    ["service+bounce-42-0000000000@example.test", "s", { outboundId: 42, verified: false, reason: "bounce address signature does not verify" }],
    ["service+bounce-42@example.test", "s", { outboundId: 42, verified: false, reason: "bounce address carries no signature" }],
    ["service+1-2@example.test", "s", { outboundId: null, verified: false, reason: null }],
    ["service@example.test", null, { outboundId: null, verified: false, reason: null }],
  ])("%s", (addr, secret, want) => {
    expect(parseBounceAddress(addr, secret)).toEqual(want);
  });

  // Only an address of this form makes the workflow read the secret (src/pipeline/bounce.ts).
  it.each<[string | null, boolean]>([
    ["service+bounce-42-0123456789@example.test", true],
    ["<Service+Bounce-42@Example.test>", true],
    ["service+bounce-42@example.test", true],
    ["service+bounce-@example.test", false],
    ["service+bounce-x1@example.test", false],
    ["service+1-2@example.test", false],
    ["service@example.test", false],
    ["service+bounce-42", false],
    ["", false],
    [null, false],
  ])("hasBounceForm(%j) is %s, as parseBounceAddress finds an id", (addr, want) => {
    expect(hasBounceForm(addr)).toBe(want);
    expect(parseBounceAddress(addr, "s").outboundId !== null).toBe(want);
  });

  it("a signature for another row does not verify", () => {
    const a = bounceAddress("service@example.test", 41, "s")!.replace("bounce-41-", "bounce-42-");
    expect(parseBounceAddress(a, "s").verified).toBe(false);
  });
});
