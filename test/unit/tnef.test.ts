// winmail.dat (src/pipeline/tnef.ts): the files and body Outlook packs into it. Pure: bytes in,
// files out. The streams are written by test/helpers/tnef-writer.ts as Outlook writes them.
import { describe, expect, it } from "vitest";
import { codepageLabel, MAX_DEPTH, MAX_TNEF_FILES, readTnef, type TnefContent, type TnefFile } from "../../src/pipeline/tnef.js";
import { attachedMail as forwarded, attribute, propertyList, writeTnef, type TnefSpec } from "../helpers/tnef-writer.js";

const pdf = Buffer.from("%PDF-1.4\n% a customer's invoice\n%%EOF\n");
const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

/** What a test compares: each file's name, type, id and bytes (as text), and the body. */
function summary(r: TnefContent | null) {
  if (!r) return null;
  return { files: r.files.map((f) => [f.name, f.contentType, f.contentId, f.data.toString("latin1")]), text: r.text, html: r.html, rtf: r.rtf?.toString("latin1") ?? null, notes: r.notes };
}

const none = { text: null, html: null, rtf: null, notes: [] };

describe("readTnef", () => {
  it.each<[string, TnefSpec, ReturnType<typeof summary>]>([
    ["one file by its short name", { files: [{ title: "INVOICE.PDF", data: pdf }] }, { files: [["INVOICE.PDF", null, null, pdf.toString("latin1")]], ...none }],
    ["the long name (PR_ATTACH_LONG_FILENAME) before the short one", { files: [{ title: "RECHNU~1.PDF", longName: "Rechnung März 2026.pdf", data: pdf }] }, { files: [["Rechnung März 2026.pdf", null, null, pdf.toString("latin1")]], ...none }],
    ["the MIME tag and Content-ID an inline image carries", { files: [{ longName: "image001.png", mimeTag: "image/png", contentId: "image001.png@01DB2F3A.5E6F7A80", data: png }] }, { files: [["image001.png", "image/png", "image001.png@01DB2F3A.5E6F7A80", png.toString("latin1")]], ...none }],
    ["two files, in order", { files: [{ title: "A.TXT", data: Buffer.from("first") }, { title: "B.TXT", data: Buffer.from("second") }] }, { files: [["A.TXT", null, null, "first"], ["B.TXT", null, null, "second"]], ...none }],
    ["a short name in Windows-1252 (attOemCodepage 1252)", { codepage: 1252, files: [{ title: "Grüße.txt", data: Buffer.from("x") }] }, { files: [["Grüße.txt", null, null, "x"]], ...none }],
    ["a short name in Windows-1251", { codepage: 1251, files: [{ title: "Счёт.pdf", data: pdf }] }, { files: [["Счёт.pdf", null, null, pdf.toString("latin1")]], ...none }],
    ["a short name in Shift_JIS (codepage 932)", { codepage: 932, files: [{ title: "請求書.pdf", data: pdf }] }, { files: [["請求書.pdf", null, null, pdf.toString("latin1")]], ...none }],
    ["an empty file is a file", { files: [{ title: "EMPTY.TXT", data: Buffer.alloc(0) }] }, { files: [["EMPTY.TXT", null, null, ""]], ...none }],
    ["attribute ids with their type word left 0 (some writers)", { noTypeWords: true, files: [{ title: "A.TXT", data: Buffer.from("a") }] }, { files: [["A.TXT", null, null, "a"]], ...none }],
    ["named properties (ids from 0x8000, a GUID and a name) are stepped over", { namedProperty: true, files: [{ longName: "after-named.txt", mimeTag: "text/plain", data: Buffer.from("n") }] }, { files: [["after-named.txt", "text/plain", null, "n"]], ...none }],
    ["an OLE object's bytes follow its 16-byte interface id", { files: [{ longName: "embedded.doc", data: Buffer.from("OLE bytes"), asObject: true }] }, { files: [["embedded.doc", null, null, "OLE bytes"]], ...none }],
    ["the plain body (attBody) in the codepage", { body: "Grüße aus Köln" }, { files: [], ...none, text: "Grüße aus Köln" }],
    ["the HTML body (PR_BODY_HTML) in its PR_INTERNET_CPID", { html: "<p>Grüße</p>" }, { files: [], ...none, html: "<p>Grüße</p>" }],
    ["the plain body in the MAPI properties (PR_BODY), whole however long", { mapiBody: "Zeile. ".repeat(1000) }, { files: [], ...none, text: "Zeile. ".repeat(1000).trim() }],
    ["a body in compressed RTF only is given as it is (rtf-body.ts reads it)", { rtf: Buffer.from("LZFu...") }, { files: [], ...none, rtf: "LZFu..." }],
    ["RTF beside a plain body is not needed", { body: "plain", rtf: Buffer.from("LZFu...") }, { files: [], ...none, text: "plain" }],
  ])("%s", (_what, spec, want) => {
    expect(summary(readTnef(writeTnef(spec)))).toEqual(want);
  });

  it("bytes that are not TNEF are not read", () => {
    expect(readTnef(Buffer.from("PK\x03\x04 a zip file"))).toBeNull();
    expect(readTnef(Buffer.alloc(0))).toBeNull();
  });

  it("a wrong checksum does not stop the reading (Outlook writes some)", () => {
    const bytes = writeTnef({ files: [{ title: "A.TXT", data: Buffer.from("abc") }] });
    bytes.writeUInt16LE(0xdead, bytes.length - 2);
    expect(summary(readTnef(bytes))!.files).toEqual([["A.TXT", null, null, "abc"]]);
  });

  it("a stream cut short keeps the files before the cut, and says so", () => {
    const whole = writeTnef({ files: [{ title: "A.TXT", data: Buffer.from("kept") }, { title: "B.TXT", data: Buffer.alloc(1000, 0x62) }] });
    const r = readTnef(whole.subarray(0, whole.length - 600))!;
    expect(r.files.map((f) => f.name)).toEqual(["A.TXT"]);
    expect(r.notes).toEqual(["winmail.dat is cut short; what came before the cut was read"]);
  });

  it("crafted lengths and counts: a property list claiming 4 billion entries, a value longer than its list", () => {
    const huge = propertyList([]);
    huge.writeUInt32LE(0xffffffff, 0);
    const long = propertyList([[0x001f, 0x3707, Buffer.from("x\0", "utf16le")]]);
    long.writeUInt32LE(0x7fffffff, 12); // the string's size
    for (const list of [huge, long]) {
      const bytes = Buffer.concat([writeTnef({ files: [{ title: "A.TXT", data: Buffer.from("a") }] }), attribute(0x02, 0x00069005, list)]);
      expect(summary(readTnef(bytes))!.files).toEqual([["A.TXT", null, null, "a"]]);
    }
  });

  it("a name, type or Content-ID is read to its first 1 KiB, however long the stream says it is", () => {
    const r = readTnef(writeTnef({ files: [{ longName: "n".repeat(100_000), mimeTag: `text/${"x".repeat(100_000)}`, contentId: "c".repeat(100_000), data: Buffer.from("d") }] }))!;
    expect([r.files[0].name!.length, r.files[0].contentType!.length, r.files[0].contentId!.length]).toEqual([512, 1024, 1024]);
  });

  it(`at most ${MAX_TNEF_FILES} attachments are read from one stream; the note says the rest stay in it`, () => {
    const files = Array.from({ length: MAX_TNEF_FILES + 5 }, (_, i) => ({ title: `F${i}.TXT`, data: Buffer.from(String(i)) }));
    const r = readTnef(writeTnef({ files }))!;
    expect(r.files).toHaveLength(MAX_TNEF_FILES);
    expect(r.files.at(-1)!.name).toBe(`F${MAX_TNEF_FILES - 1}.TXT`);
    expect(r.notes).toEqual([`winmail.dat holds more than ${MAX_TNEF_FILES} attachments; the rest stay in it (the raw message keeps them)`]);
  });

  it("3,000 damaged streams (bytes, lengths and counts overwritten, cuts): none throws, each file lies inside the stream", () => {
    let seed = 20261208;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const streams = [
      writeTnef({ body: "Grüße", html: "<p>x</p>", namedProperty: true, files: [{ title: "A.TXT", longName: "a.txt", mimeTag: "text/plain", contentId: "a@b", data: Buffer.alloc(300, 0x61) }, { title: "B.BIN", data: Buffer.alloc(50, 1), asObject: true }] }),
      writeTnef({ codepage: 932, rtf: Buffer.alloc(64, 7), files: [{ title: "請求書.pdf", data: pdf }] }),
      writeTnef({ files: [{ title: "Fwd", message: { subject: "s", senderSmtp: "a@b.example", submitted: new Date(0), transportHeaders: "From: a@b.example\r\n", recipients: [{ name: "n", smtp: "c@d.example", type: 1 }], files: [{ title: "IN.TXT", data: Buffer.alloc(40, 0x69) }, { title: "Deeper", message: { mapiBody: "x", files: [{ title: "D.TXT", data: Buffer.from("d") }] } }] } }] }),
    ];
    // Every file, those of the mails inside included.
    const all = (files: TnefFile[]): TnefFile[] => files.flatMap((f) => [f, ...all(f.message?.content.files ?? [])]);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(streams[i % streams.length]);
      for (let k = 1 + rnd(6); k > 0; k--) {
        const at = rnd(b.length - 4);
        if (rnd(2)) b[at] = rnd(256);
        else b.writeUInt32LE([0xffffffff, 0x7fffffff, rnd(1 << 20), 0][rnd(4)], at);
      }
      const input = rnd(3) === 0 ? b.subarray(0, rnd(b.length)) : b;
      const r = readTnef(input);
      for (const f of all(r?.files ?? [])) expect(f.data.buffer === input.buffer && f.data.byteOffset + f.data.length <= input.byteOffset + input.length).toBe(true);
    }
  });

  it.each([
    [1252, "windows-1252"],
    [1251, "windows-1251"],
    [874, "windows-874"],
    [28592, "iso-8859-2"],
    [932, "shift_jis"],
    [65001, "utf-8"],
    [437, null],
    [null, null],
  ])("codepage %s is %s", (cp, label) => {
    expect(codepageLabel(cp)).toBe(label);
  });
});

// Outlook's "attach as item" and a mail forwarded as an attachment: attach method 5, the mail itself
// a TNEF stream after IID_IMessage ([MS-OXTNEF] 2.1.3.4). parse.ts writes it out as an .eml (tnef-message.ts).
describe("readTnef: a mail attached inside winmail.dat", () => {

  it("is read as a mail: who sent it (the internet address, not Exchange's X.500 name), to whom (To and Cc, not Bcc), when, its id, text and files", () => {
    const r = readTnef(writeTnef({ body: "see attached", files: [{ title: "Lieferung verzögert", message: forwarded }] }))!;
    expect(r.text).toBe("see attached");
    expect(r.files).toHaveLength(1);
    const m = r.files[0].message!;
    expect({ ...m, content: summary(m.content) }).toEqual({
      headers: null,
      subject: "Lieferung verzögert",
      from: '"Spedition Nord" <dispo@spedition.example>',
      to: ['"Einkauf" <einkauf@kunde.example>'],
      cc: ['"Lager" <lager@kunde.example>', '"Exchange only"'],
      date: new Date("2026-12-07T15:42:10Z"),
      messageId: "<8f2e1c@spedition.example>",
      content: { files: [["lieferschein.pdf", "application/pdf", null, "%PDF-1.4\n%%EOF\n"]], text: "Die Lieferung verzögert sich.", html: null, rtf: null, notes: [] },
    });
    // Its bytes stay the attached mail's own stream: kept as they are where it is not read.
    expect(r.files[0].name).toBe("Lieferung verzögert");
    expect(readTnef(r.files[0].data)!.text).toBe("Die Lieferung verzögert sich.");
  });

  it("its transport headers are given (to 64 KiB), and the legacy attSubject serves when PR_SUBJECT is missing", () => {
    const headers = "From: a@b.example\r\nSubject: x\r\n";
    const r = readTnef(writeTnef({ files: [{ title: "T", message: { legacySubject: "Alte Form", transportHeaders: headers + "X-Pad: " + "p".repeat(100_000) } }] }))!;
    const m = r.files[0].message!;
    expect(m.subject).toBe("Alte Form");
    expect(m.headers!.startsWith(headers)).toBe(true);
    expect(m.headers!.length).toBe(32 * 1024);
    expect([m.from, m.to, m.cc, m.date, m.messageId]).toEqual([null, [], [], null, null]);
  });

  it(`mails inside mails are read to depth ${MAX_DEPTH}; one deeper is kept as its stream`, () => {
    let spec: TnefSpec = { subject: "deepest", mapiBody: "bottom" };
    for (let i = MAX_DEPTH; i > 0; i--) spec = { subject: `level ${i}`, files: [{ title: `level ${i + 1}`, message: spec }] };
    const r = readTnef(writeTnef({ files: [{ title: "level 1", message: spec }] }))!;
    let files = r.files;
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      expect(files[0].message!.subject).toBe(`level ${depth}`);
      files = files[0].message!.content.files;
    }
    expect(files[0].message).toBeNull();
    expect(readTnef(files[0].data)!.text).toBe("bottom");
  });

  it(`the ${MAX_TNEF_FILES} files a winmail.dat gives count those of the mails inside it`, () => {
    const many = Array.from({ length: MAX_TNEF_FILES }, (_, i) => ({ title: `F${i}.TXT`, data: Buffer.from(String(i)) }));
    const r = readTnef(writeTnef({ files: [{ title: "A.TXT", data: Buffer.from("a") }, { title: "Fwd", message: { files: many } }] }))!;
    expect(r.files[1].message!.content.files).toHaveLength(MAX_TNEF_FILES - 2);
    expect(r.notes).toEqual([`winmail.dat holds more than ${MAX_TNEF_FILES} attachments; the rest stay in it (the raw message keeps them)`]);
  });

  it("an object that is not a mail (another interface id, or no TNEF after it) stays a file", () => {
    const inner = writeTnef({ subject: "not read" });
    const asOle = readTnef(writeTnef({ files: [{ longName: "x.doc", data: inner, asObject: true }] }))!;
    expect([asOle.files[0].message, asOle.files[0].data.equals(inner)]).toEqual([null, true]);
  });

  it("a recipient table claiming 4 billion rows, or one cut short, gives the rows it has", () => {
    const row = propertyList([[0x0003, 0x0c15, Buffer.from([1, 0, 0, 0])], [0x001f, 0x39fe, Buffer.from("a@b.example\0", "utf16le")]]);
    const table = (count: number, ...rows: Buffer[]) => {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(count);
      return Buffer.concat([n, ...rows]);
    };
    const to = (t: Buffer) => readTnef(writeTnef({ files: [{ title: "Fwd", message: { subject: "s", recipientTable: t } }] }))!.files[0].message!.to;
    expect(to(table(0xffffffff, row, row))).toEqual(["a@b.example", "a@b.example"]);
    expect(to(table(3, row, row.subarray(0, 10)))).toEqual(["a@b.example"]);
  });
});
