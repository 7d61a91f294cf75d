// The one-part fast path (src/pipeline/parse-simple.ts) must read a mail exactly as the MIME parser
// does. Every fixture and every corpus mail (../shared/corpus, where present) is parsed both ways;
// where the fast path takes a mail, the two ParsedMail values must be equal. A table of crafted
// shapes pins which mails it takes and which it leaves to mailparser.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultParseLimits, parsedHeadersOnly, parseMail, type ParsedMail } from "../src/pipeline/parse.js";
import { fixedBytes } from "../src/pipeline/parse-input.js";
import { MAX_HEADER_BYTES, readTopHeader, parseSimple } from "../src/pipeline/parse-simple.js";
import { corpusMessages, corpusPresent } from "./helpers/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "ingest-mail-parse-simple-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const limits = defaultParseLimits;

/** Both readings of one mail, and whether the fast path took it. */
async function both(bytes: Buffer) {
  // createdFiles says which parse wrote an attachment first: not part of the reading.
  const fast = { ...(await parseMail(bytes, dir, limits)), createdFiles: [] };
  const full = { ...(await parseMail(bytes, dir, limits, { simple: false })), createdFiles: [] };
  return { fast, full, taken: parseSimple(fixedBytes(bytes).bytes, limits) !== null };
}

function walk(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Where `read` takes a message, its reading must equal the full parse's; returns how many it took. */
async function sameWhereTaken(messages: { id: string; bytes: Buffer }[], read: (bytes: Buffer) => Promise<{ mine: unknown; full: unknown } | null>): Promise<number> {
  let taken = 0;
  for (const m of messages) {
    const r = await read(m.bytes);
    if (!r) continue;
    taken++;
    expect(r.mine, m.id).toEqual(r.full);
  }
  return taken;
}

const fixtureMails = () => walk("fixtures").filter((f) => f.endsWith(".eml")).map((f) => ({ id: f, bytes: readFileSync(f) }));

async function fastPath(bytes: Buffer) {
  const r = await both(bytes);
  return r.taken ? { mine: r.fast, full: r.full } : null;
}

describe("the fast path reads real mail as mailparser does", () => {
  it("every fixture", async () => {
    const mails = fixtureMails();
    // Most fixtures are plain one-part mail: a fast path that declined everything would pass vacuously.
    expect(await sameWhereTaken(mails, fastPath)).toBeGreaterThan(mails.length / 3);
  });

  it.skipIf(!corpusPresent())("every corpus mail (zammad, sisimai, discourse)", async () => {
    expect(await sameWhereTaken(corpusMessages(), fastPath)).toBeGreaterThan(100);
  });
});

// Issue 9.1: a record whose parse failed still shows its sender, subject and ids, read from the
// top-level header alone (src/pipeline/ingest.ts reads the first 64 KiB + 1 byte). Where that reading
// takes a mail, its fields must be the full parse's.
const headerFields = (p: ParsedMail) => ({ headerBlock: p.headerBlock, messageId: p.messageId, inReplyTo: p.inReplyTo, references: p.references, from: p.from, to: p.to, cc: p.cc, deliveredTo: p.deliveredTo, subject: p.subject, date: p.date });

async function headerAlone(bytes: Buffer) {
  const alone = parsedHeadersOnly(bytes.subarray(0, MAX_HEADER_BYTES + 1));
  // A mail the full parse refuses has nothing to compare.
  const full = alone && (await parseMail(bytes, dir, limits, { simple: false }).catch(() => null));
  return alone && full ? { mine: headerFields(alone), full: headerFields(full) } : null;
}

describe("the header alone reads as the full parse does", () => {
  it("every fixture", async () => {
    const mails = fixtureMails();
    expect(await sameWhereTaken(mails, headerAlone)).toBeGreaterThan(mails.length * 0.9);
  });

  it.skipIf(!corpusPresent())("every corpus mail (zammad, sisimai, discourse)", async () => {
    const mails = corpusMessages();
    expect(await sameWhereTaken(mails, headerAlone)).toBeGreaterThan(mails.length * 0.9);
  });

  it.each([
    ["a header and a body", Buffer.from("From: a@x\nSubject: s\n\nbody\n"), 2],
    ["all header, no empty line", Buffer.from("From: a@x\nSubject: s\n"), 2],
    ["CRLF", Buffer.from("From: a@x\r\nSubject: s\r\n\r\nbody\r\n"), 2],
    ["an empty line first: no header", Buffer.from("\nFrom: a@x\n"), null],
    ["nothing", Buffer.alloc(0), null],
    ["a header longer than 64 KiB", Buffer.from(`From: a@x\nX-Long: ${"a ".repeat(20_000)}\n continued ${"b ".repeat(20_000)}\n\nbody\n`), null],
    ["a header line longer than 60 KiB", Buffer.from(`From: a@x\nX-Long: ${"a".repeat(61 * 1024)}\n\nbody\n`), null],
    ["64 KiB + 1 of a longer message with no empty line in it", Buffer.from(`From: a@x\n${"X-H: v\n".repeat(12_000)}`).subarray(0, MAX_HEADER_BYTES + 1), null],
  ])("%s", (_what, bytes, lines) => {
    const read = readTopHeader(bytes);
    expect(read && read.headerLines.length).toBe(lines);
  });
});

const mail = (headers: string[], body: string) => Buffer.from(`${headers.join("\r\n")}\r\n\r\n${body}`, "latin1");
const base = ["From: Ann <ann@example.com>", "To: service@example.com", "Subject: Printer", "Message-ID: <m1@example.com>"];

describe("which mail the fast path takes", () => {
  it.each([
    ["plain ASCII, no Content-Type", mail(base, "Hello\r\nthere\r\n"), true],
    ["UTF-8 8-bit", mail([...base, "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"], Buffer.from("Grüße\r\n").toString("latin1")), true],
    ["quoted-printable", mail([...base, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"], "Gr=C3=BC=C3=9Fe, a soft=\r\n break\r\n"), true],
    ["base64", mail([...base, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"], "R3LDvMOfZQ0KbGluZSB0d28=\r\n"), true],
    ["base64 padded on every line: left to mailparser", mail([...base, "Content-Transfer-Encoding: base64"], "QQ==\r\nQkM=\r\n"), false],
    ["invalid UTF-8 in the body", mail(base, "caf\xe9 \xff\r\n"), true],
    ["LF line ends, folded and encoded headers", Buffer.from("From: =?UTF-8?B?w4Rnbg==?= <a@example.com>\nSubject: a\n long =?ISO-8859-1?Q?subj=E9ct?=\nReferences: <r1@x>\n <r2@x>\nReferences: <r3@x>\nIn-Reply-To: =?UTF-8?Q?<r3@x>?=\n\nbody\n"), true],
    ["Message-ID without brackets, twice", mail(["From: a@example.com", "Message-ID: first@x", "Message-ID: <second@x>"], "x"), true],
    ["empty body", mail(base, ""), true],
    ["bare CR line ends (old Mac mail)", Buffer.from(`${base.join("\r")}\r\rHello\rthere\r`, "latin1"), true],
    ["an mbox From line before the headers", Buffer.from(`From ann@example.com Mon Jan  1 00:00:00 2024\n${base.join("\n")}\n\nHello\n`), true],
    ["ISO-8859-1 body", mail([...base, "Content-Type: text/plain; charset=iso-8859-1"], "caf\xe9"), true],
    ["windows-1252 quoted-printable", mail([...base, "Content-Type: text/plain; charset=windows-1252", "Content-Transfer-Encoding: quoted-printable"], "=80 5, caf=E9"), true],
    ["us-ascii with 8-bit bytes (read as UTF-8, not decoded)", mail([...base, "Content-Type: text/plain; charset=us-ascii"], Buffer.from("Grüße").toString("latin1")), true],
    ["Shift_JIS", mail([...base, "Content-Type: text/plain; charset=Shift_JIS"], Buffer.from([0x82, 0xa0, 0x82, 0xa2]).toString("latin1")), true],
    ["UTF-7 (refused, read as UTF-8)", mail([...base, "Content-Type: text/plain; charset=utf-7"], "+ADw-script+AD4-"), true],
    ["an unknown charset", mail([...base, "Content-Type: text/plain; charset=x-no-such"], "caf\xe9"), true],
    ["no charset, Windows-1252 bytes", mail(base, "I don\x92t know \x93why\x94 \x80 5, caf\xe9"), true],
    ["a UTF-8 label over Latin-1 bytes", mail([...base, "Content-Type: text/plain; charset=utf-8"], "caf\xe9"), true],
    ["no charset, the Subject's ISO-8859-2 a hint", mail([...base.slice(0, 2), "Subject: =?iso-8859-2?Q?faktura?=", "Message-ID: <m2@example.com>"], "Dobr\xfd den, \xb9patn\xec"), true],
    ["iso-gb2312 (a label libmime does not know)", mail([...base, "Content-Type: text/plain; charset=iso-gb2312"], "\xc4\xfa\xba\xc3"), true],
    ["no charset, 7-bit ISO-2022-JP", mail(base, "\x1b$B%F%9%H\x1b(B"), true],
    ["ISO-2022-JP, 7-bit as it should be (libmime's reading)", mail([...base, "Content-Type: text/plain; charset=ISO-2022-JP"], "\x1b$B%F%9%H\x1b(B"), true],
    ["an ISO-2022-JP label over Shift_JIS bytes", mail([...base, "Content-Type: text/plain; charset=iso-2022-jp"], "\x83\x63\x81\x5b\x83\x8b"), true],
    ["format=flowed", mail([...base, "Content-Type: text/plain; charset=utf-8; format=flowed"], "a soft \r\nbreak\r\n> quoted \r\n> more\r\n"), true],
    ["format=flowed; delsp=yes", mail([...base, "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes"], "a soft \r\nbreak\r\n"), true],
    ["text/html alone", mail([...base, "Content-Type: text/html; charset=utf-8"], "<html><body><p>Hello <b>there</b></p><ul><li>one</li></ul></body></html>"), true],
    ["empty text/html", mail([...base, "Content-Type: text/html"], ""), true],
    ["text/html past htmlToTextBytes: stripped, not converted", mail([...base, "Content-Type: text/html"], `<p>${"some words\r\n".repeat(limits.htmlToTextBytes / 10)}</p>`), true],
    ["text/html with a thousand tags: left to mailparser", mail([...base, "Content-Type: text/html"], "<div>".repeat(1000)), false],
    ["an inline text/plain part with a file name", mail([...base, "Content-Disposition: inline; filename=a.txt"], "x"), true],
    ["text/plain as an attachment: left to mailparser", mail([...base, "Content-Disposition: attachment; filename=a.txt"], "x"), false],
    ["an image: left to mailparser", mail([...base, "Content-Type: image/png", "Content-Transfer-Encoding: base64"], "iVBORw0KGgo="), false],
    ["multipart: left to mailparser", mail([...base, 'Content-Type: multipart/mixed; boundary="b"'], "--b\r\n\r\nx\r\n--b--\r\n"), false],
    ["no empty line after the headers: left to mailparser", Buffer.from(base.join("\r\n")), false],
    ["starts with an empty line: left to mailparser", Buffer.from(`\r\n${base.join("\r\n")}\r\n\r\nx`), false],
    ["a 100 KB header line: left to mailparser", mail([...base, `X-Long: ${"a".repeat(100_000)}`], "x"), false],
    ["larger than maxTextBytes: left to mailparser", mail(base, "x".repeat(limits.maxTextBytes)), false],
  ])("%s", async (_what, bytes, taken) => {
    const r = await both(bytes);
    expect(r.taken).toBe(taken);
    expect(r.fast).toEqual(r.full);
  });

  it("reads the thread ids and the text as the workflow needs them", async () => {
    const r = await both(Buffer.from("From: a@example.com\nMessage-ID: first@x\nMessage-ID: <second@x>\nReferences: <r1@x>\n <r2@x>\nReferences: r3@x\nIn-Reply-To: <r2@x>\n\nline one\r\nline two\n"));
    expect(r.taken).toBe(true);
    expect(r.fast).toMatchObject({ messageId: "<first@x>", inReplyTo: "<r2@x>", references: ["<r1@x>", "<r2@x>", "<r3@x>"], text: "line one\nline two\n" });
  });
});
