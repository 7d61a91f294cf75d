// issue 13 point 1: the new text of a reply. The whole corpus (fixtures/replies/) as a table, the
// hard rule that no expected line is ever lost, the ≥ 90% exact target, and hostile input.
import { describe, expect, it } from "vitest";
import { loadCorpus, lostLines, score, verdict } from "../../bench/reply-corpus.js";
import { attributionAt, isForwardSubject, isHeaderBlockAt, isMobileSignature, mobileSignatures } from "../../src/rules/reply-markers.js";
import { replyText, replyTextToStore, storedReplyText } from "../../src/rules/reply-text.js";

const corpus = loadCorpus();
const tuning = corpus.filter((c) => !c.holdout);
const extract = (c: (typeof corpus)[number]) => replyText(c.input, { subject: c.subject });

describe("the corpus", () => {
  it("has at least 60 cases from several clients and languages, some held out", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    const tag = (k: string) => new Set(corpus.map((c) => c.tags.find((t) => t.startsWith(`${k}=`))));
    expect(tag("client").size).toBeGreaterThanOrEqual(10);
    expect(tag("lang").size).toBeGreaterThanOrEqual(10);
    expect(corpus.filter((c) => c.holdout).length).toBeGreaterThanOrEqual(10);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it("never loses a line of the customer's new text, on any case (held-out ones included)", () => {
    const lost = corpus.map((c) => ({ name: c.name, lost: lostLines(extract(c), c.expected) })).filter((x) => x.lost.length);
    expect(lost).toEqual([]);
  });

  // The target is on the whole corpus. The held-out part is reported, not tuned for
  // (docs/reply-text.md lists its misses); this floor only catches a change that breaks it badly.
  it("is at least 90% exact on the whole corpus, and at least 80% on the held-out part", () => {
    const all = score(corpus, extract);
    const held = score(
      corpus.filter((c) => c.holdout),
      extract,
    );
    expect(all.exact / all.total).toBeGreaterThanOrEqual(0.9);
    expect(held.exact / held.total).toBeGreaterThanOrEqual(0.8);
  });

  // Tuning cases must stay exact: a change that breaks one shows here by name.
  it.each(tuning.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(extract(c)).toBe(c.expected);
  });
});

// Every new text of the corpus under every kind of history: the customer's lines must all survive
// (and, history being history, the result should be exactly the new text).
const HISTORIES = [
  "On Tue, Jan 9, 2024 at 3:14 PM Example Support <service@example.test> wrote:\n\n> Hello,\n>\n> how can we help?\n>",
  "Am 09.01.24 um 15:14 schrieb Example Support:\n> Hallo,\n> wie können wir helfen?",
  "From: Example Support <service@example.test>\nSent: Tuesday, January 9, 2024 3:14 PM\nTo: Alice <alice@customer.example>\nSubject: RE: Help\n\nHello, how can we help?",
  "-----Original Message-----\nFrom: Example Support [mailto:service@example.test]\nSent: Tuesday, January 09, 2024 3:14 PM\nTo: Alice\nSubject: Help\n\nHow can we help?",
  "________________________________\nVon: Example Support <service@example.test>\nGesendet: Dienstag, 9. Januar 2024 15:14\nAn: Alice\nBetreff: Hilfe\n\nWie können wir helfen?",
  "-- \nAlice Example\nCustomer Ltd.\n\nLe mar. 9 janv. 2024 à 15:14, Example Support <service@example.test> a écrit :\n\n> Bonjour",
  "Sent from my iPhone\n\n> On 9 Jan 2024, at 15:14, Example Support <service@example.test> wrote:\n> \n> Hello",
];

describe("every new text survives every kind of history", () => {
  // Forwards, and texts that hold quoted lines themselves (interleaved answers, pasted errors: under
  // "Re:" a leading quote is the history), are left out.
  const texts = tuning
    .filter((c) => !(c.subject && /^\s*(fwd?|fw|wg|tr)\s*:/i.test(c.subject)) && !/^[ \t]{0,3}>/m.test(c.expected))
    .map((c) => [c.name, c.expected] as const);
  it("takes most of the corpus", () => expect(texts.length).toBeGreaterThan(60));
  it.each(HISTORIES.map((h, k) => [k, h] as const))("history %i", (_k, history) => {
    const lost: string[] = [];
    const inexact: string[] = [];
    for (const [name, text] of texts) {
      const out = replyText(`${text}\n\n${history}\n`, { subject: "Re: help" });
      if (lostLines(out, text).length) lost.push(name);
      else if (verdict(out, text) !== "exact") inexact.push(name);
    }
    expect(lost).toEqual([]);
    expect(inexact.length, inexact.join(", ")).toBeLessThanOrEqual(Math.floor(texts.length * 0.05));
  });
});

describe("the scoring itself can fail", () => {
  it.each([
    ["same text", "a\nb", "a\nb", "exact"],
    ["trailing spaces and blank edges aside", "\na  \nb\n\n", "a\nb", "exact"],
    ["a line missing", "a", "a\nb", "lost"],
    ["lines out of order", "b\na", "a\nb", "lost"],
    ["two lines of history left", "a\nb\n> x\n> y", "a\nb", "near"],
    ["the whole history left", "a\n> 1\n> 2\n> 3\n> 4", "a", "extra"],
  ])("%s → %s", (_what, out, expected, v) => {
    expect(verdict(out, expected)).toBe(v);
  });
});

describe("markers", () => {
  it.each([
    ["On Tue, Jan 9, 2024 at 3:14 PM Alice <alice@example.com> wrote:", true, true],
    ["Am 09.01.24 um 15:14 schrieb Example Support:", true, true],
    ["Le 09/01/2024 à 15:14, Example Support a écrit :", true, true],
    ["El 9/1/24 a las 15:14, Example Support escribió:", true, true],
    ["Il giorno mar 9 gen 2024 alle ore 15:14 Bob <b@x.example> ha scritto:", true, true],
    ["Op di 9 jan 2024 om 15:14 schreef Bob <b@x.example>:", true, true],
    ["2024年1月9日(火) 15:14 Bob <b@x.example>:", true, true],
    ["Bob <b@x.example> 于2024年1月9日周二 15:14写道：", true, true],
    ["On Monday my colleague wrote:", true, false], // only before quoted lines
    ["As I wrote:", true, false],
    ["On 3 May 2024 I wrote:", true, false], // the customer about their own mail
    ["Am 3. Mai 2024 schrieb ich Ihnen:", true, false],
    ["On 3 May a colleague wrote:", true, false], // no time, year or address
    ["Op 9 jan. 2024 om 15:14 heeft Bob <b@x.example> het volgende geschreven:", true, true], // iOS Mail, Dutch
    ["Στις Τρί 9 Ιαν 2024 στις 3:14 μ.μ., ο/η Bob <b@x.example> έγραψε:", true, true],
    ["Zitat von Example Support <service@example.test>:", true, false], // Horde: only before quoted lines
    ["Vào Th 3, 9 thg 1, 2024 vào lúc 15:14 Bob <b@x.example> đã viết:", true, true], // Gmail, Vietnamese
    // A verb no list holds: an address and a clock time make it one above quoted lines, not alone.
    ["Am Dienstag um 15:14 erklärte Bob <b@x.example> Folgendes:", true, false],
    ["Bitte an <b@x.example> schicken:", false, false], // an address but no time
    ["The label says:", false, false],
    ["On " + "x".repeat(500) + " wrote:", false, false], // longer than any real attribution
  ])("%s → before quotes %s, alone %s", (line, weak, strong) => {
    expect(attributionAt([line], 0, false) > 0).toBe(weak);
    expect(attributionAt([line], 0, true) > 0).toBe(strong);
  });

  it("finds a Gmail attribution wrapped over two lines", () => {
    expect(attributionAt(["On Tue, Jan 9, 2024 at 3:14 PM Example Support <", "service@example.test> wrote:"], 0, true)).toBe(2);
  });

  it.each([
    [["From: A <a@x.example>", "Sent: Tuesday", "To: B"], true],
    [["Von: A", "Gesendet: Dienstag", "An: B", "Betreff: x"], true],
    [["De : A", "Envoyé : mardi", "À : B"], true],
    [["*From:* A", "*Sent:* Tuesday", "*To:* B"], true],
    [["差出人: A", "送信日時: 2024年1月9日", "件名: x"], true],
    [["From: Example Warehouse", "To: Alice"], false], // no date line: the customer quoting a label
    [["From: A", "", "Hello", "Sent: x", "To: y"], false],
    [["Od: A <a@x.example>", "Odesláno: úterý 9. ledna 2024 15:14", "Komu: B", "Předmět: RE: x"], true], // Outlook, Czech
    // GMX and web.de: the date first, with a clock time, and the sender with an address.
    [["Gesendet: Dienstag, 09. Januar 2024 um 15:14 Uhr", 'Von: "A" <a@x.example>', "An: b@x.example", "Betreff: x"], true],
    [["Datum: 12.03.", "Von: Berlin", "An: München"], false], // a customer's travel plan
    [["Datum: 12.03. um 15:14", "Von: Berlin Hbf", "An: München"], false], // a time, but no sender address
    [["Date: Thu, 29 Apr 2009 23:45:10 -0600", "From: A <a@x.example>", "To: b@x.example", "Subject: x"], false], // a raw header, pasted or bounced
  ])("header block %j → %s", (lines, expected) => {
    expect(isHeaderBlockAt(lines, 0)).toBe(expected);
  });

  it.each([
    ["Sent from my iPhone", true],
    ["  SENT FROM MY IPHONE.  ", true],
    ["Sent from my Galaxy S23 Ultra", true],
    ["Von meinem iPhone gesendet", true],
    ["Gesendet von meinem Samsung Galaxy", true],
    ["Get Outlook for iOS<https://aka.ms/o0ukef>", true],
    ["Sent from Mail for Windows 10", true],
    ["Sent from Outlook for Android", true],
    ["Sent with Proton Mail secure email.", true],
    ["Sent with ProtonMail secure email", true],
    ["Envoyé de mon iPhone", true],
    ["ENVOYÉ DE MON IPHONE", true],
    ["Enviado desde mi móvil", true],
    ["Enviado do meu iPhone", true],
    ["Inviato da iPhone", true],
    ["Inviato dal mio Samsung", true],
    ["Verzonden met mijn Galaxy", true],
    ["Verzonden vanaf iPad", true],
    ["Verstuurd vanaf mijn iPhone", true],
    ["Skickat från min iPhone", true],
    ["Wysłane z mojego telefonu", true],
    ["WYSŁANE Z IPHONE'A", true],
    ["Sendt fra min iPhone", true],
    ["Отправлено с iPhone", true],
    ["ОТПРАВЛЕНО С IPHONE", true],
    ["从我的iPhone发送", true],
    ["iPhoneから送信", true],
    ["iphoneから送信", false],
    ["Sent from my office, the printer is broken again", false],
    ["Sent from home", false],
    ["Thanks, Alice", false],
    ["", false],
  ])("mobile signature %j → %s", (line, expected) => {
    expect(isMobileSignature(line)).toBe(expected);
    // The leads only spare the patterns a line cannot match: the answer is every pattern's.
    expect(mobileSignatures.some((m) => m.re.test(line.trim()))).toBe(expected);
  });

  it("each signature pattern starts with its lead", () => {
    for (const { lead, re } of mobileSignatures) {
      expect(lead).toBe(lead.toLowerCase());
      expect(re.source.slice(1).toLowerCase().startsWith(lead), re.source).toBe(true);
    }
  });

  it.each([
    ["Fwd: invoice", true],
    ["WG: Rechnung", true],
    ["TR: facture", true],
    ["[CS-000001] FW: report", true],
    ["Re: forward planning", false],
    ["Important: read", false],
  ])("forward subject %s → %s", (subject, expected) => {
    expect(isForwardSubject(subject)).toBe(expected);
  });
});

describe("hostile input finishes fast (linear work per line)", () => {
  const MB = 1 << 20;
  it.each([
    ["quoted lines", "> a\n"],
    ["signature markers", "--\n-- \n"],
    ["header-block starts", "From: a\nSent: b\n"],
    ["wrapped attribution starts", "On 1 <a@b\n"],
    ["separator-like lines", "------ x ------\n"],
    ["one endless line", "On "],
    ["colon lines", "Begin forwarded message:\n"],
  ])("1 MB of %s", (_what, unit) => {
    const body = unit.repeat(Math.ceil(MB / unit.length));
    const t0 = performance.now();
    const out = replyText(body);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(typeof out).toBe("string");
  });

  it("1 MB of nested forwards under a Fwd: subject (each level re-reads only what follows it, at most 8 levels)", () => {
    const body = "note\n-----Original Message-----\nFrom: a\nSent: b\nTo: c\n\ntext\n".repeat(Math.ceil(MB / 60));
    const t0 = performance.now();
    const out = replyText(body, { subject: "Fwd: x" });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(out.startsWith("note\n\ntext\nnote\n\ntext\nnote")).toBe(true);
    expect(out.slice(0, 60)).not.toContain("From: a"); // beyond 8 levels the rest is kept as it is
  });
});

// Issue 9.3 (the text body stored once): the new text is stored as "" when it is the whole text, and
// read back as exactly what replyText gives.
describe("the stored form of the new text", () => {
  it.each([
    ["nothing quoted", "Hello,\n\nthe kettle is broken.\n\nAlice\n", undefined, true],
    ["CRLF lines and blank lines around", "\r\n\r\nHello,\r\nthe kettle is broken.\r\n\r\n", undefined, true],
    ["empty", "", undefined, true],
    ["a quoted reply", "Thanks!\n\nOn Mon, 1 Jan 2024, Support <s@example.com> wrote:\n> Is it fixed?\n", "Re: help", false],
    ["a signature", "It works now.\n\n-- \nAlice\nCustomer Ltd.\n", undefined, false],
    ["a forward", "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@example.com>\nSubject: x\n\nThe text.\n", "Fwd: x", false],
  ])("%s", (_what, body, subject, whole) => {
    const stored = replyTextToStore(body, { subject });
    expect(stored === "").toBe(whole);
    expect(storedReplyText(body, stored)).toBe(replyText(body, { subject }));
  });

  it("actions recorded before the new text was kept read as null", () => {
    expect(storedReplyText("Hello", null)).toBeNull();
  });
});
