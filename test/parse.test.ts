// parseMail on the shapes of mail the corpus check turned up: attachment names in every encoding,
// parts that are attachments or body, line endings, HTML-only mail. Files land by content hash.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { defaultParseLimits, parseMail, type ParsedMail } from "../src/pipeline/parse.js";
import { opaqueSigned } from "./helpers/cms.js";

const made: string[] = [];
const attDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-parse-"));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Parses bytes in memory (chunk 0, as small mail is), or fed as a stream in chunks of `chunk`
 * bytes (to cross every boundary the stream can have). */
async function parse(raw: string | Buffer, chunk = 0, dir = attDir()): Promise<ParsedMail> {
  const bytes = typeof raw === "string" ? Buffer.from(raw, "latin1") : raw;
  if (chunk === 0) return parseMail(bytes, dir);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  return parseMail(Readable.from(pieces), dir);
}

/** A multipart/mixed mail with a text body and one part with the given headers. */
function withPart(partHeaders: string, body = "aGVsbG8=", extraHeaders = ""): string {
  return [
    "From: Ann <ann@example.com>",
    "Subject: part test",
    extraHeaders,
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "body text",
    "--b1",
    partHeaders,
    "",
    body,
    "--b1--",
    "",
  ]
    .filter((l, i) => !(i === 2 && l === ""))
    .join("\r\n");
}

describe("attachment names", () => {
  it.each([
    ["filename= in Content-Disposition", 'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64', "report.pdf"],
    ["name= in Content-Type only", 'Content-Type: application/pdf; name="only-name.pdf"\r\nContent-Transfer-Encoding: base64', "only-name.pdf"],
    ["filename= wins over name=", 'Content-Type: application/pdf; name="b.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64', "a.pdf"],
    ["RFC 2231 with charset and continuations", "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=UTF-8''%E2%82%AC%20rates;\r\n filename*1*=%20list.pdf\r\nContent-Transfer-Encoding: base64", "€ rates list.pdf"],
    ["RFC 2231 in ISO-8859-1", "Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename*=ISO-8859-1''Bestellbest%E4tigung.jpg\r\nContent-Transfer-Encoding: base64", "Bestellbestätigung.jpg"],
    ["RFC 2047 encoded word", 'Content-Type: text/plain; name="=?UTF-8?B?w6TDtsO8LnR4dA==?="\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64', "äöü.txt"],
    ["raw 8-bit Latin-1", 'Content-Type: image/jpeg; name="Forex Platte ohne W\xf6lbung.jpg"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64', "Forex Platte ohne Wölbung.jpg"],
    ["raw 8-bit UTF-8", `Content-Type: text/plain; name="${Buffer.from("Erklärung.txt").toString("latin1")}"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64`, "Erklärung.txt"],
    ["control characters removed", 'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="=?UTF-8?Q?a=09b=01c.bin?="\r\nContent-Transfer-Encoding: base64', "abc.bin"],
    ["a path is data, never a place", 'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../../etc/passwd"\r\nContent-Transfer-Encoding: base64', "../../etc/passwd"],
    ["winmail.dat is kept as it is", 'Content-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Disposition: attachment; filename="winmail.dat"\r\nContent-Transfer-Encoding: base64', "winmail.dat"],
  ])("%s", async (_what, headers, want) => {
    const dir = attDir();
    const mail = await parse(withPart(headers), 0, dir);
    expect(mail.text?.trim()).toBe("body text");
    expect(mail.attachments.map((a) => a.filename)).toEqual([want]);
    const a = mail.attachments[0];
    // Stored by content hash under the attachments folder, whatever the name says.
    expect(relative(dir, a.storedPath)).toBe(join(a.sha256.slice(0, 2), a.sha256));
    expect(readFileSync(a.storedPath).toString()).toBe("hello");
  });

  it("caps a long name at 255 characters", async () => {
    const mail = await parse(withPart(`Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="${"x".repeat(300)}.txt"\r\nContent-Transfer-Encoding: base64`));
    expect(mail.attachments[0].filename).toHaveLength(255);
  });

  it("keeps the order of the parts", async () => {
    const parts = ["c.txt", "a.txt", "b.txt"].map((n, i) => `--b1\r\nContent-Type: text/plain; name="${n}"\r\nContent-Disposition: attachment\r\n\r\n${"y".repeat(50_000 * (3 - i))}\r\n`);
    const mail = await parse(`From: a@example.com\r\nSubject: order\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n${parts.join("")}--b1--\r\n`);
    expect(mail.attachments.map((a) => a.filename)).toEqual(["c.txt", "a.txt", "b.txt"]);
  });
});

describe("parts kept as attachments", () => {
  it("an attached message is one message/rfc822 attachment, not opened up", async () => {
    const inner = "From: b@example.com\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=ib\r\n\r\n--ib\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--ib\r\nContent-Type: application/pdf; name=inner.pdf\r\n\r\nPDF\r\n--ib--\r\n";
    const mail = await parse(withPart("Content-Type: message/rfc822\r\nContent-Disposition: attachment", inner));
    expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([[null, "message/rfc822"]]);
    expect(readFileSync(mail.attachments[0].storedPath, "latin1")).toContain("Subject: inner");
    expect(mail.text).not.toContain("inner text");
  });

  it("an inline image without a name keeps its Content-ID", async () => {
    const mail = await parse(withPart("Content-Type: image/gif\r\nContent-ID: <logo@example.com>\r\nContent-Transfer-Encoding: base64"));
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.contentId])).toEqual([[null, "image/gif", "<logo@example.com>"]]);
  });

  it("a delivery report (RFC 3464) is an attachment, not body text", async () => {
    const mail = await parse(withPart("Content-Description: Delivery report\r\nContent-Type: message/delivery-status", "Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"));
    expect(mail.attachments.map((a) => a.contentType)).toEqual(["message/delivery-status"]);
    expect(mail.text).not.toContain("Reporting-MTA");
  });
});

describe("line endings and envelope lines", () => {
  const lf = "From: Ann <ann@example.com>\nSubject: endings\nMessage-ID: <e@example.com>\n\nline one\nline two\n";
  it.each([
    ["LF", lf, 0],
    ["CRLF", lf.replace(/\n/g, "\r\n"), 0],
    ["bare CR (old Mac)", lf.replace(/\n/g, "\r"), 0],
    ["bare CR, one byte at a time", lf.replace(/\n/g, "\r"), 1],
    ["CRLF, one byte at a time", lf.replace(/\n/g, "\r\n"), 1],
    ["mbox From_ line first (Postfix pipe F flag)", `From ann@example.com  Tue Oct 29 03:52:03 2013\n${lf}`, 0],
    ["mbox From_ line, bare CR, in chunks of 7", `From ann@example.com  Tue Oct 29 03:52:03 2013\r${lf.replace(/\n/g, "\r")}`, 7],
  ])("%s", async (_what, raw, chunk) => {
    const mail = await parse(raw, chunk);
    expect(mail.subject).toBe("endings");
    expect(mail.from).toEqual({ address: "ann@example.com", name: "Ann" });
    expect(mail.text?.replace(/\r/g, "").trim()).toBe("line one\nline two");
    expect(mail.headerBlock).not.toMatch(/^From /);
  });
});

describe("headers", () => {
  it("decodes raw 8-bit headers with the charset the message declares", async () => {
    const subject = Buffer.from("d7aab7a2a3bac8abd2b5", "hex").toString("latin1");
    const mail = await parse(`From: a@example.com\r\nSubject: ${subject}\r\nContent-Type: text/plain; charset=gb2312\r\n\r\nx\r\n`);
    expect(mail.subject).toBe("转发：全业");
    expect(mail.headerBlock).toContain("Subject: 转发：全业");
  });

  it("keeps a raw UTF-8 header block readable (RFC 6532)", async () => {
    const mail = await parse(Buffer.from("From: Jürgen <j@example.com>\r\nSubject: Grüße\r\n\r\nx\r\n"));
    expect(mail.subject).toBe("Grüße");
    expect(mail.from?.name).toBe("Jürgen");
    expect(mail.headerBlock).toContain("Subject: Grüße");
  });

  it("takes Reply-To when From names nobody", async () => {
    const mail = await parse('From: "=?GB2312?B?ztI=?=" <>\r\nReply-To: <vip@example.com>\r\nSubject: s\r\n\r\nx\r\n');
    expect(mail.from).toEqual({ address: "vip@example.com", name: "" });
  });

  it("leaves an unreadable Date empty instead of inventing one", async () => {
    expect((await parse("From: a@example.com\r\nSubject: s\r\nDate: yesterday-ish\r\n\r\nx\r\n")).date).toBeNull();
    expect((await parse("From: a@example.com\r\nSubject: s\r\nDate: Thu, 18 Sep 2008 17:54:04 +0900 (JST)\r\n\r\nx\r\n")).date).toBe("2008-09-18T08:54:04.000Z");
  });

  it("reads no subject as null (the record becomes invalid)", async () => {
    expect((await parse("From: a@example.com\r\nSubject:   \r\n\r\nx\r\n")).subject).toBeNull();
    expect((await parse("From: a@example.com\r\n\r\nSubject: in the body\r\n")).subject).toBeNull();
  });
});

describe("HTML-only mail", () => {
  it.each([
    ["as the whole message", 'Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello <b>there</b></p><div>second line</div></body></html>\r\n'],
    ["inside multipart/mixed", 'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p><div>second line</div>\r\n--m\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\nPDF\r\n--m--\r\n'],
    ["inside multipart/related", 'Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p><div>second line</div><img src="cid:i@x">\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <i@x>\r\n\r\nPNG\r\n--r--\r\n'],
  ])("gets text %s", async (_what, rest) => {
    const mail = await parse(`From: a@example.com\r\nSubject: html\r\n${rest}`);
    expect(mail.html).toContain("<b>there</b>");
    expect(mail.text).toMatch(/Hello there\s+second line/);
  });
});

it("stores nothing outside the attachments folder", async () => {
  const dir = attDir();
  const mail = await parse(withPart('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="/tmp/evil"\r\nContent-Transfer-Encoding: base64'), 0, dir);
  expect(mail.attachments[0].storedPath.startsWith(dir)).toBe(true);
  expect(existsSync("/tmp/evil")).toBe(false);
});

it("keeps the type a part declares, even application/octet-stream", async () => {
  const mail = await parse(withPart('Content-Type: application/octet-stream; name="team.jpg"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64'));
  expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([["team.jpg", "application/octet-stream"]]);
});

describe("in memory and streamed", () => {
  // Small mail is parsed from its buffer, large mail from its spool file: the same message must
  // come out the same either way.
  const fixtures = readdirSync(join(__dirname, "..", "fixtures")).filter((f) => f.endsWith(".eml"));
  it.each(fixtures)("%s", async (name) => {
    const bytes = readFileSync(join(__dirname, "..", "fixtures", name));
    const dir = attDir();
    const { createdFiles: _a, ...whole } = await parse(bytes, 0, dir);
    const { createdFiles: _b, ...streamed } = await parse(bytes, 1000, dir);
    expect(streamed).toEqual(whole);
  });
});

describe("a parse that fails part-way", () => {
  // More parts than mailsplit allows: the parser fails while an attachment is being written. That
  // part's temporary file goes with it (it used to stay behind until `recover` swept it an hour later).
  const parts = Array.from({ length: 1100 }, (_, i) => `--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="p${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${"QUJD".repeat((i % 7) + 1)}\r\n`).join("");
  const mail = `From: a@customer.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`;
  const temporaries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.split("/").pop()!.startsWith(".tmp-")) : []);

  it.each([0, 1000])("leaves no temporary file (chunks of %i bytes)", async (chunk) => {
    const dir = attDir();
    await expect(parse(mail, chunk, dir)).rejects.toThrow(/child nodes/);
    expect(temporaries(dir)).toEqual([]);
  });
});

describe("text parts with no charset, or one their bytes are not in (body-text.ts)", () => {
  const head = ["From: Ann <ann@example.com>", "To: service@example.com", "Message-ID: <cs@example.com>"];
  const latin1 = "Die Rechnung f\xfcr M\xe4rz \x80 10, sagt J\x93rgen\x94";
  const read = "Die Rechnung für März € 10, sagt J“rgen”";

  it.each([0, 7])("one part, and inside multipart/alternative, are read as Windows-1252 and say so (chunks of %i)", async (chunk) => {
    const one = await parse([...head, "Subject: Rechnung", "", latin1, ""].join("\r\n"), chunk);
    expect({ text: one.text, readAs: one.readAs }).toEqual({ text: `${read}\n`, readAs: ["windows-1252"] });
    const multi = await parse(
      [...head, "Subject: Rechnung", 'Content-Type: multipart/alternative; boundary="b"', "", "--b", "Content-Type: text/plain", "", latin1, "--b", "Content-Type: text/html; charset=us-ascii", "", `<p>${latin1}</p>`, "--b--", ""].join("\r\n"),
      chunk,
    );
    expect({ text: multi.text, html: multi.html, readAs: multi.readAs }).toEqual({ text: read, html: `<p>${read}</p>`, readAs: ["windows-1252"] });
  });

  it.each([0, 5])("an ISO-2022-JP label over Shift_JIS bytes is read as Shift_JIS; 7-bit ISO-2022-JP as before (chunks of %i)", async (chunk) => {
    const p = await parse(
      [...head, "Subject: x", 'Content-Type: multipart/mixed; boundary="b"', "", "--b", "Content-Type: text/plain; charset=iso-2022-jp", "", "\x83\x63\x81\x5b\x83\x8b", "--b", "Content-Type: text/plain; charset=iso-2022-jp", "", "\x1b$B%F%9%H\x1b(B", "--b--", ""].join("\r\n"),
      chunk,
    );
    expect(p.text).toContain("ツール");
    expect(p.text).toContain("テスト");
    expect(p.readAs).toEqual(["shift_jis"]);
  });

  it("a charset declared elsewhere in the message is tried first (the Subject's encoded word)", async () => {
    const p = await parse([...head, "Subject: =?koi8-r?B?5sHL1NXSwQ==?=", 'Content-Type: multipart/mixed; boundary="b"', "", "--b", "", "\xf3\xd0\xc1\xd3\xc9\xc2\xcf", "--b--", ""].join("\r\n"));
    expect({ subject: p.subject, text: p.text, readAs: p.readAs }).toEqual({ subject: "Фактура", text: "Спасибо", readAs: ["koi8-r"] });
  });

  it("UTF-8 and labelled charsets are read as before, with nothing said", async () => {
    const p = await parse([...head, "Subject: x", 'Content-Type: multipart/mixed; boundary="b"', "", "--b", "Content-Type: text/plain; charset=utf-8", "", Buffer.from("Grüße").toString("latin1"), "--b", "Content-Type: text/plain; charset=iso-8859-1", "", "caf\xe9", "--b--", ""].join("\r\n"));
    expect(p.text).toContain("Grüße");
    expect(p.text).toContain("café");
    expect(p.readAs).toEqual([]);
  });

  it("a text part with no charset inside S/MIME signed-data: read as Windows-1252, and the trace's list says so", async () => {
    const p = await parse(opaqueSigned("From: a@example.com\nSubject: signed", Buffer.from("Content-Type: text/plain\r\n\r\nGr\xfc\xdfe aus K\xf6ln\r\n", "latin1")));
    expect({ text: p.text, readAs: p.readAs, steps: p.steps.map(([d]) => d) }).toEqual({ text: "Grüße aus Köln\n", readAs: ["windows-1252"], steps: ["s/mime signed-data unwrapped"] });
  });

  it("a text part past limits.maxTextBytes is cut, not taken for another charset", async () => {
    const text = "ü".repeat(60_000); // 120,000 bytes of UTF-8, cut at 100,000 + 4: in the middle of a character
    const p = await parseMail(Buffer.from([...head, "Subject: x", 'Content-Type: multipart/mixed; boundary="b"', "", "--b", "Content-Type: text/plain", "", text, "--b--", ""].join("\r\n")), attDir(), { ...defaultParseLimits, maxTextBytes: 100_000 });
    expect(p.readAs).toEqual([]);
    expect(p.text).toMatch(/^(ü)+\n\[\.\.\. cut at 100000 bytes/);
  });
});
