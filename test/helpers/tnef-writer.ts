// Writes TNEF streams (winmail.dat, [MS-OXTNEF]) as Outlook does, for tests: the reader
// (src/pipeline/tnef.ts) is checked against these, and these against Debian's `tnef` tool
// (test/tnef.test.ts), so a misreading of the format shared by reader and writer would show.
import { iconvLite } from "../../src/pipeline/mailparser-own.js";

export interface TnefFileSpec {
  /** attAttachTitle: the short name, in the stream's codepage. */
  title?: string;
  /** PR_ATTACH_LONG_FILENAME as a Unicode string (PT_UNICODE). */
  longName?: string;
  mimeTag?: string;
  contentId?: string;
  /** The file's bytes (not for an attached mail). */
  data?: Buffer;
  /** Put the data in PR_ATTACH_DATA_OBJ (an OLE object after its 16-byte IID) instead of attAttachData. */
  asObject?: boolean;
  /** An attached mail (attach method 5): this message's TNEF stream after IID_IMessage in PR_ATTACH_DATA_OBJ; `data` is not written. */
  message?: TnefSpec;
  /** PR_DISPLAY_NAME (Outlook gives an attached mail its subject). */
  displayName?: string;
}

export interface TnefRecipient {
  name?: string;
  /** PR_SMTP_ADDRESS. */
  smtp?: string;
  /** PR_EMAIL_ADDRESS (an X.500 name for Exchange users). */
  email?: string;
  /** PR_RECIPIENT_TYPE: 1 To, 2 Cc, 3 Bcc. */
  type: 1 | 2 | 3;
}

export interface TnefSpec {
  codepage?: number;
  /** attBody: plain text in the codepage. */
  body?: string;
  /** PR_BODY_HTML in the message's MAPI properties. */
  html?: string;
  /** PR_BODY in the message's MAPI properties, as a Unicode string. */
  mapiBody?: string;
  /** PR_RTF_COMPRESSED: any bytes (not read). */
  rtf?: Buffer;
  files?: TnefFileSpec[];
  /** The type word of each attribute id left 0, as some writers do. */
  noTypeWords?: boolean;
  /** A named property (id ≥ 0x8000) before the others in each property list. */
  namedProperty?: boolean;
  /** What a message says of itself (an attached mail's stream): PR_SUBJECT, the sender, submit time, id, transport headers. */
  subject?: string;
  /** attSubject, the legacy attribute, in the codepage. */
  legacySubject?: string;
  senderName?: string;
  senderSmtp?: string;
  senderEmail?: string;
  submitted?: Date;
  messageId?: string;
  transportHeaders?: string;
  recipients?: TnefRecipient[];
  /** attRecipTable's bytes as given (crafted tables), instead of `recipients`. */
  recipientTable?: Buffer;
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

/** One attribute: level, id (type << 16 | name), length, data, checksum (the sum of the data's bytes). */
export function attribute(level: number, id: number, data: Buffer, noType = false): Buffer {
  let sum = 0;
  for (const byte of data) sum = (sum + byte) & 0xffff;
  return Buffer.concat([Buffer.from([level]), u32(noType ? id & 0xffff : id), u32(data.length), data, u16(sum)]);
}

type Prop = [type: number, id: number, value: Buffer];

/** A MAPI property list: count, then each property's tag and value(s) ([MS-OXTNEF] 2.1.3.4). */
export function propertyList(props: Prop[], named = false): Buffer {
  const parts: Buffer[] = [u32(props.length + (named ? 1 : 0))];
  if (named) {
    // PT_LONG 0x8005 in PSETID_Common (GUID bytes arbitrary here), named by a string.
    const name = Buffer.from("Keywords\0", "utf16le");
    parts.push(u16(0x0003), u16(0x8005), Buffer.alloc(16, 7), u32(1), u32(name.length), pad(name), u32(42));
  }
  for (const [type, id, value] of props) {
    parts.push(u16(type), u16(id));
    if (type === 0x001e || type === 0x001f || type === 0x0102 || type === 0x000d) parts.push(u32(1), u32(value.length), pad(value));
    else parts.push(pad(value));
  }
  return Buffer.concat(parts);
}

export const unicodeValue = (s: string) => Buffer.from(`${s}\0`, "utf16le");

/** A TNEF stream as Outlook writes one: version, codepage, class, body, then each attachment. */
export function writeTnef(spec: TnefSpec): Buffer {
  const cp = spec.codepage ?? 1252;
  const noType = spec.noTypeWords ?? false;
  const charset = cp === 65001 ? "utf-8" : `cp${cp}`;
  const s8 = (text: string) => Buffer.concat([iconvLite.encode(text, charset), Buffer.from([0])]);
  const out: Buffer[] = [u32(0x223e9f78), u16(0x1234)];
  const msg = (id: number, data: Buffer) => out.push(attribute(0x01, id, data, noType));
  const att = (id: number, data: Buffer) => out.push(attribute(0x02, id, data, noType));
  msg(0x00089006, u32(0x00010000)); // attTnefVersion
  msg(0x00069007, Buffer.concat([u32(cp), u32(0)])); // attOemCodepage
  msg(0x00078008, Buffer.from("IPM.Microsoft Mail.Note\0")); // attMessageClass
  if (spec.legacySubject !== undefined) msg(0x00018004, s8(spec.legacySubject));
  if (spec.body !== undefined) msg(0x0002800c, s8(spec.body));
  if (spec.recipientTable) msg(0x00069004, spec.recipientTable);
  else if (spec.recipients) msg(0x00069004, Buffer.concat([u32(spec.recipients.length), ...spec.recipients.map(recipientRow)]));
  const mapi: Prop[] = [[0x0003, 0x3fde, u32(65001)]]; // PR_INTERNET_CPID: the HTML is UTF-8
  if (spec.html !== undefined) mapi.push([0x0102, 0x1013, Buffer.from(spec.html)]);
  if (spec.mapiBody !== undefined) mapi.push([0x001f, 0x1000, unicodeValue(spec.mapiBody)]);
  if (spec.rtf) mapi.push([0x0102, 0x1009, spec.rtf]);
  if (spec.subject !== undefined) mapi.push([0x001f, 0x0037, unicodeValue(spec.subject)]);
  if (spec.senderName !== undefined) mapi.push([0x001f, 0x0c1a, unicodeValue(spec.senderName)]);
  if (spec.senderEmail !== undefined) mapi.push([0x001f, 0x0c1f, unicodeValue(spec.senderEmail)]);
  if (spec.senderSmtp !== undefined) mapi.push([0x001f, 0x5d01, unicodeValue(spec.senderSmtp)]);
  if (spec.submitted) mapi.push([0x0040, 0x0039, fileTime(spec.submitted)]);
  if (spec.messageId !== undefined) mapi.push([0x001e, 0x1035, s8(spec.messageId)]);
  if (spec.transportHeaders !== undefined) mapi.push([0x001f, 0x007d, unicodeValue(spec.transportHeaders)]);
  msg(0x00069003, propertyList(mapi, spec.namedProperty));
  for (const f of spec.files ?? []) {
    // attAttachRendData: AttachType 1 (a file), position, width, height, flags.
    att(0x00069002, Buffer.concat([u16(1), u32(0xffffffff), u16(0), u16(0), u32(0)]));
    if (f.title !== undefined) att(0x00018010, s8(f.title));
    if (!f.asObject && !f.message) att(0x0006800f, f.data ?? Buffer.alloc(0));
    const props: Prop[] = [[0x0003, 0x3705, u32(f.message ? 5 : f.asObject ? 6 : 1)]]; // PR_ATTACH_METHOD: by value, an attached mail, or OLE
    if (f.displayName !== undefined) props.push([0x001f, 0x3001, unicodeValue(f.displayName)]);
    if (f.message) props.push([0x000d, 0x3701, Buffer.concat([IID_IMESSAGE, writeTnef(f.message)])]);
    if (f.longName !== undefined) props.push([0x001f, 0x3707, unicodeValue(f.longName)]);
    if (f.mimeTag !== undefined) props.push([0x001e, 0x370e, s8(f.mimeTag)]);
    if (f.contentId !== undefined) props.push([0x001e, 0x3712, s8(f.contentId)]);
    if (f.asObject) props.push([0x000d, 0x3701, Buffer.concat([Buffer.alloc(16, 0xab), f.data ?? Buffer.alloc(0)])]);
    att(0x00069005, propertyList(props, spec.namedProperty));
  }
  return Buffer.concat(out);
}

/** IID_IMessage as the bytes before an attached mail's stream ([MS-OXTNEF] 2.1.3.4). */
const IID_IMESSAGE = Buffer.from("0703020000000000c000000000000046", "hex");

/** A PT_SYSTIME value: 100-ns intervals since 1601-01-01. */
function fileTime(d: Date): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(d.getTime()) + 11_644_473_600_000n) * 10_000n);
  return b;
}

/** One row of attRecipTable: a property list of the recipient's name, addresses and kind. */
function recipientRow(r: TnefRecipient): Buffer {
  const props: Prop[] = [[0x0003, 0x0c15, u32(r.type)]];
  if (r.name !== undefined) props.push([0x001f, 0x3001, unicodeValue(r.name)]);
  if (r.email !== undefined) props.push([0x001f, 0x3003, unicodeValue(r.email)]);
  if (r.smtp !== undefined) props.push([0x001f, 0x39fe, unicodeValue(r.smtp)]);
  return propertyList(props);
}

/** [MS-OXRTFCP] 2.1.3.1: RTF stored uncompressed (COMPTYPE "MELA"), as PR_RTF_COMPRESSED holds it. */
export function uncompressedRtf(rtf: string): Buffer {
  const body = Buffer.from(rtf, "latin1");
  return Buffer.concat([u32(body.length + 12), u32(body.length), u32(0x414c454d), u32(0), body]);
}

/** The dictionary compressed RTF starts with ([MS-OXRTFCP] 2.1.3.1.3): 207 bytes, so output starts at 207. */
const DICTIONARY_BYTES = 207;

/**
 * Compressed RTF ("LZFu") of `head` followed by `period` repeated until `total` bytes: the period
 * as literals once, then references 17 bytes at a time to the copy one period back (the format's
 * overlapping copy), which is how a small stream expands about 8.5 times.
 */
export function compressedRepeat(head: string, period: string, total: number): Buffer {
  const literals = Buffer.from(head + period, "latin1");
  const tokens: Buffer[] = [...literals].map((b) => Buffer.from([b]));
  const isRef: boolean[] = tokens.map(() => false);
  let out = DICTIONARY_BYTES + literals.length;
  for (let done = literals.length; done < total; ) {
    const length = Math.min(17, total - done);
    if (length < 2) break;
    const offset = (out - period.length) & 4095;
    tokens.push(Buffer.from([(offset >> 4) & 0xff, ((offset & 15) << 4) | (length - 2)]));
    isRef.push(true);
    out += length;
    done += length;
  }
  // The end: a reference to the current write position ([MS-OXRTFCP] 2.1.3.1.4).
  const end = out & 4095;
  tokens.push(Buffer.from([(end >> 4) & 0xff, (end & 15) << 4]));
  isRef.push(true);
  const body: Buffer[] = [];
  for (let i = 0; i < tokens.length; i += 8) {
    let control = 0;
    for (let k = 0; k < 8 && i + k < tokens.length; k++) if (isRef[i + k]) control |= 1 << k;
    body.push(Buffer.from([control]), ...tokens.slice(i, i + 8));
  }
  const data = Buffer.concat(body);
  return Buffer.concat([u32(data.length + 12), u32(total), u32(0x75465a4c), u32(0), data]);
}

/** A mail a customer forwarded as an attachment in Outlook (attach method 5), as the reader and composer tests use it. */
export const attachedMail: TnefSpec = {
  subject: "Lieferung verzögert",
  senderName: "Spedition Nord",
  senderEmail: "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=DISPO",
  senderSmtp: "dispo@spedition.example",
  submitted: new Date("2026-12-07T15:42:10Z"),
  messageId: "<8f2e1c@spedition.example>",
  mapiBody: "Die Lieferung verzögert sich.",
  recipients: [
    { name: "Einkauf", smtp: "einkauf@kunde.example", type: 1 },
    { name: "Lager", email: "lager@kunde.example", type: 2 },
    { name: "Exchange only", email: "/O=X/CN=ONLY", type: 2 },
    { name: "Hidden", smtp: "bcc@kunde.example", type: 3 },
  ],
  files: [{ longName: "lieferschein.pdf", mimeTag: "application/pdf", data: Buffer.from("%PDF-1.4\n%%EOF\n") }],
};
