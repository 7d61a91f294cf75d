// A mail attached inside winmail.dat written out as an .eml (src/pipeline/tnef-message.ts), read back
// with mailparser as any client would read the file.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { describe, expect, it } from "vitest";
import { parseMail } from "../../src/pipeline/parse.js";
import { composeMessage, emlName } from "../../src/pipeline/tnef-message.js";
import { readTnef, type TnefFile } from "../../src/pipeline/tnef.js";
import { attachedMail, uncompressedRtf, writeTnef, type TnefSpec } from "../helpers/tnef-writer.js";

const pdf = Buffer.from("%PDF-1.4\n%%EOF\n");

/** The attached mail of a winmail.dat holding `spec` as one. */
function attached(spec: TnefSpec, title = "Fwd"): TnefFile {
  return readTnef(writeTnef({ files: [{ title, message: spec }] }))!.files[0];
}

async function composed(spec: TnefSpec): Promise<{ bytes: Buffer; mail: ParsedMail }> {
  const f = attached(spec);
  const chunks: Buffer[] = [];
  for await (const chunk of await composeMessage(f.message!, f.data)) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  return { bytes, mail: await simpleParser(bytes) };
}

/** Each address as `name <address>` (or the address alone). */
const text = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : [])
    .flatMap((x) => x.value)
    .map((v) => (v.name ? `${v.name} <${v.address}>` : v.address))
    .join(", ");

describe("composeMessage", () => {
  it("from its MAPI properties: sender, recipients, subject, date, id, text and files, each file with its bytes", async () => {
    // Cc: the recipient with an internet address; one with only an Exchange name, and the Bcc, are not written.
    const { mail } = await composed({ ...attachedMail, mapiBody: "Die Lieferung verzögert sich.\r\nZweite Zeile" });
    expect([text(mail.from), text(mail.to), text(mail.cc), mail.subject, mail.date?.toISOString(), mail.messageId]).toEqual([
      "Spedition Nord <dispo@spedition.example>",
      "Einkauf <einkauf@kunde.example>",
      "Lager <lager@kunde.example>",
      "Lieferung verzögert",
      "2026-12-07T15:42:10.000Z",
      "<8f2e1c@spedition.example>",
    ]);
    expect(mail.text?.trim()).toBe("Die Lieferung verzögert sich.\nZweite Zeile");
    expect(mail.attachments.map((a) => [a.filename, a.contentType, a.content.equals(pdf)])).toEqual([["lieferschein.pdf", "application/pdf", true]]);
  });

  it("the internet headers it arrived with come first; trace and transport fields (Received, Content-Type) are not carried", async () => {
    const { bytes, mail } = await composed({
      subject: "from the properties",
      senderSmtp: "props@example.test",
      transportHeaders: [
        "Received: from mx.example.test by mx.kunde.example; Mon, 7 Dec 2026 16:42:12 +0100",
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.test>",
        "To: einkauf@kunde.example",
        "Subject: =?utf-8?q?Re=3A_Bestellung?=",
        "\tfolded",
        "Date: Mon, 7 Dec 2026 16:42:10 +0100",
        "Message-ID: <orig@example.test>",
        "In-Reply-To: <ours@service.example>",
        "References: <first@service.example> <ours@service.example>",
        "Content-Type: multipart/mixed; boundary=x",
        "X-Spam-Score: 99",
        "",
      ].join("\r\n"),
      mapiBody: "Antwort",
    });
    expect([text(mail.from), text(mail.to), mail.subject, mail.date?.toISOString(), mail.messageId, mail.inReplyTo, mail.references]).toEqual([
      "Jörg Müller <joerg@example.test>",
      "einkauf@kunde.example",
      "Re: Bestellung folded",
      "2026-12-07T15:42:10.000Z",
      "<orig@example.test>",
      "<ours@service.example>",
      ["<first@service.example>", "<ours@service.example>"],
    ]);
    expect(bytes.toString()).not.toMatch(/^(Received|X-Spam-Score):/im);
  });

  it("the same stream gives the same bytes (a resubmit stores the same file); a Date or Message-ID it does not say is left out, not made up", async () => {
    const spec: TnefSpec = { subject: "no date", mapiBody: "x", files: [{ title: "A.TXT", data: Buffer.from("a") }] };
    const one = await composed(spec);
    const two = await composed(spec);
    expect(one.bytes.equals(two.bytes)).toBe(true);
    const head = one.bytes.subarray(0, one.bytes.indexOf("\r\n\r\n")).toString();
    expect(head).not.toMatch(/^(Date|Message-ID):/im);
    expect(head).toMatch(/^Subject: no date$/m);
  });

  it("line breaks in a crafted subject, sender name or transport header start no header of their own", async () => {
    const { bytes, mail } = await composed({
      subject: "Hallo\r\nBcc: victim@example.test\r\n\r\nbody",
      senderName: "Eve\r\nX-Injected: 1",
      senderSmtp: "eve@example.test",
      transportHeaders: "Reply-To: =?utf-8?q?a=0D=0ABcc=3A_victim2=40example=2Etest?= <r@example.test>\r\n",
      mapiBody: "text",
    });
    const head = bytes.subarray(0, bytes.indexOf("\r\n\r\n")).toString();
    expect(head).not.toMatch(/^(Bcc|X-Injected):/im);
    expect(mail.bcc).toBeUndefined();
    expect(mail.subject).toBe("Hallo Bcc: victim@example.test body");
    expect(mail.text?.trim()).toBe("text");
  });

  it("a mail whose body is only RTF gets its text from it; a mail inside it is attached as message/rfc822", async () => {
    const { bytes } = await composed({ rtf: uncompressedRtf("{\\rtf1\\ansi Nur RTF hier.\\par}"), files: [{ title: "Inner", message: { subject: "inner", mapiBody: "innen" } }] });
    // Read as the pipeline reads mail (mailparser's simpleParser would open the attached mail up).
    const dir = mkdtempSync(join(tmpdir(), "ingest-mail-tnef-"));
    try {
      const mail = await parseMail(bytes, dir);
      expect(mail.text?.trim()).toBe("Nur RTF hier.");
      expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([["Inner.eml", "message/rfc822"]]);
      const inner = await simpleParser(readFileSync(mail.attachments[0].storedPath));
      expect([inner.subject, inner.text?.trim()]).toEqual(["inner", "innen"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["its attachment name", { title: "Order 4711", message: { subject: "other" } }, "Order 4711.eml"],
    ["a name that already says .msg", { title: "Order.msg", message: {} }, "Order.eml"],
    ["its subject when it has no name", { message: { subject: "Betreff" } }, "Betreff.eml"],
    ["message.eml when it has neither", { message: {} }, "message.eml"],
  ])("its file name is %s", (_what, file, want) => {
    expect(emlName(readTnef(writeTnef({ files: [file] }))!.files[0])).toBe(want);
  });
});
