// What Outlook and Exchange pack into winmail.dat (application/ms-tnef, [MS-OXTNEF]): the files the
// sender attached, the mails attached as items (each a stream of its own, read the same way), and,
// for a mail that has no other text, its plain or HTML body. Without this the customer's files reach
// the issue as one opaque winmail.dat. Pure: bytes in, files out (parse.ts stores them;
// tnef-message.ts writes an attached mail out as an .eml; rtf-body.ts reads a body kept as RTF).
// Mail is hostile: every length and count is read from the input, so each is checked against the
// bytes left, and the work is one pass over them at each level of MAX_DEPTH.
import { decodeBytes } from "./header-text.js";

export interface TnefFile {
  name: string | null;
  /** PR_ATTACH_MIME_TAG, when the sender's client wrote one. */
  contentType: string | null;
  contentId: string | null;
  data: Buffer;
  /**
   * For an attached mail (Outlook's "attach as item", or a forwarded message: attach method 5), what
   * it holds; parse.ts writes it out as a message/rfc822 file, as the same mail attached by any other
   * client reaches us. `data` is its TNEF stream, kept when it cannot be read (deeper than MAX_DEPTH).
   */
  message: TnefMessage | null;
}

/** An embedded message ([MS-OXTNEF] 2.1.3.4: PidTagAttachDataObject holds it as a TNEF stream of its own). */
export interface TnefMessage {
  /** PR_TRANSPORT_MESSAGE_HEADERS: the internet headers it arrived with, when it came by mail (to 64 KiB). */
  headers: string | null;
  subject: string | null;
  /** The sender as `name <address>` (or either alone), from the MAPI properties. */
  from: string | null;
  /** Recipients from its recipient table (attRecipTable), by kind. */
  to: string[];
  cc: string[];
  /** PR_CLIENT_SUBMIT_TIME, else PR_MESSAGE_DELIVERY_TIME. */
  date: Date | null;
  messageId: string | null;
  content: TnefContent;
}

export interface TnefContent {
  files: TnefFile[];
  /** The message body as plain text (attBody or PR_BODY), or null. */
  text: string | null;
  /** The message body as HTML (PR_BODY_HTML), or null. */
  html: string | null;
  /** The body as compressed RTF (PR_RTF_COMPRESSED) when there is no text or HTML; rtf-body.ts reads it. */
  rtf: Buffer | null;
  /** What could not be read: a cut stream, files past the cap. */
  notes: string[];
}

/** Bytes read of a file's name, type or Content-ID (parse.ts keeps 255 characters of a name). */
const SHORT_BYTES = 1024;
/** [MS-OXTNEF] 2.1.3.1: TNEFSignature, little-endian. */
const SIGNATURE = 0x223e9f78;
/** Attachments read from one winmail.dat, those of the messages inside it included; the rest stay in it (the raw message keeps everything). */
export const MAX_TNEF_FILES = 256;
/** Messages inside messages read to this depth; one deeper is kept as its bytes (a crafted nesting is only as deep as its bytes allow, but each level is composed again). */
export const MAX_DEPTH = 3;
/** The transport headers of an embedded message are read to this many bytes (a mail's header is rarely 20 KiB). */
const HEADER_BYTES = 64 * 1024;

// [MS-OXTNEF] 2.1.3.3: attribute ids (the low word; the high word, the type, is not relied on:
// some writers leave it 0, and the Debian `tnef` tool also reads by the low word).
const attOemCodepage = 0x9007;
const attBody = 0x800c;
const attMapiProps = 0x9003;
const attAttachRendData = 0x9002;
const attAttachData = 0x800f;
const attAttachTitle = 0x8010;
const attAttachment = 0x9005;
const attSubject = 0x8004;
const attRecipTable = 0x9004;
const LEVEL_ATTACHMENT = 0x02;
/** Recipients read from one recipient table. */
const MAX_RECIPIENTS = 1000;

// [MS-OXPROPS]: the MAPI properties read.
const PR_BODY = 0x1000;
const PR_RTF_COMPRESSED = 0x1009;
const PR_BODY_HTML = 0x1013;
const PR_INTERNET_CPID = 0x3fde;
const PR_DISPLAY_NAME = 0x3001;
const PR_ATTACH_DATA = 0x3701;
const PR_ATTACH_FILENAME = 0x3704;
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_MIME_TAG = 0x370e;
const PR_ATTACH_CONTENT_ID = 0x3712;
const PR_ATTACH_METHOD = 0x3705;
const PR_SUBJECT = 0x0037;
const PR_CLIENT_SUBMIT_TIME = 0x0039;
const PR_MESSAGE_DELIVERY_TIME = 0x0e06;
const PR_TRANSPORT_MESSAGE_HEADERS = 0x007d;
const PR_INTERNET_MESSAGE_ID = 0x1035;
const PR_SENDER_NAME = 0x0c1a;
const PR_SENDER_EMAIL_ADDRESS = 0x0c1f;
const PR_SENDER_SMTP_ADDRESS = 0x5d01;
const PR_SENT_REPRESENTING_NAME = 0x0042;
const PR_SENT_REPRESENTING_EMAIL_ADDRESS = 0x0065;
const PR_SENT_REPRESENTING_SMTP_ADDRESS = 0x5d02;
const PR_EMAIL_ADDRESS = 0x3003;
const PR_SMTP_ADDRESS = 0x39fe;
const PR_RECIPIENT_TYPE = 0x0c15;
/** Only these are kept from a property list: a crafted list of millions of others costs no memory. */
const WANTED = new Set([
  PR_BODY, PR_RTF_COMPRESSED, PR_BODY_HTML, PR_INTERNET_CPID, PR_DISPLAY_NAME, PR_ATTACH_DATA, PR_ATTACH_FILENAME, PR_ATTACH_LONG_FILENAME, PR_ATTACH_MIME_TAG, PR_ATTACH_CONTENT_ID,
  PR_ATTACH_METHOD, PR_SUBJECT, PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME, PR_TRANSPORT_MESSAGE_HEADERS, PR_INTERNET_MESSAGE_ID, PR_SENDER_NAME, PR_SENDER_EMAIL_ADDRESS,
  PR_SENDER_SMTP_ADDRESS, PR_SENT_REPRESENTING_NAME, PR_SENT_REPRESENTING_EMAIL_ADDRESS, PR_SENT_REPRESENTING_SMTP_ADDRESS, PR_EMAIL_ADDRESS, PR_SMTP_ADDRESS, PR_RECIPIENT_TYPE,
]);
/** [MS-OXCMSG] 2.2.2.9: PidTagAttachMethod afEmbeddedMessage. */
const ATTACH_EMBEDDED_MSG = 5;
/** IID_IMessage {00020307-0000-0000-C000-000000000046}, as the 16 bytes before an embedded message. */
const IID_IMESSAGE = Buffer.from("0703020000000000c000000000000046", "hex");

// [MS-OXCDATA] 2.11.1: property types.
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;
const PT_BINARY = 0x0102;
const PT_OBJECT = 0x000d;
const PT_LONG = 0x0003;
const PT_SYSTIME = 0x0040;
const MV_FLAG = 0x1000;
/** Bytes a single value of a fixed-size type takes in a TNEF property list (padded to 4, [MS-OXTNEF] 2.1.3.4). */
const FIXED_SIZE: Record<number, number> = { 0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000a: 4, 0x000b: 4, 0x0014: 8, 0x0040: 8, 0x0048: 16 };

/** True when the bytes start as a TNEF stream does. */
export function isTnef(bytes: Buffer): boolean {
  return bytes.length >= 6 && bytes.readUInt32LE(0) === SIGNATURE;
}

interface Value {
  type: number;
  bytes: Buffer;
}

interface Pending {
  title: Buffer | null;
  data: Buffer | null;
  props: Map<number, Value>;
}

/** The files and body in a TNEF stream, or null when the bytes are not one. */
export function readTnef(bytes: Buffer): TnefContent | null {
  return isTnef(bytes) ? readStream(bytes, 0, { files: 0 }).content : null;
}

interface Stream {
  content: TnefContent;
  /** The message's own MAPI properties (attMapiProps), the stream's codepage, its attSubject and recipients. */
  message: Map<number, Value>;
  codepage: number | null;
  subject: Buffer | null;
  recipients: Map<number, Value>[];
}

/** One stream; `budget` counts the files of all streams read for one winmail.dat (MAX_TNEF_FILES). */
function readStream(bytes: Buffer, depth: number, budget: { files: number }): Stream {
  const out: TnefContent = { files: [], text: null, html: null, rtf: null, notes: [] };
  let codepage: number | null = null;
  let message = new Map<number, Value>();
  let body: Buffer | null = null;
  let subject: Buffer | null = null;
  let recipients: Map<number, Value>[] = [];
  const pending: Pending[] = [];
  // Signature (4) and LegacyKey (2), then attributes: level (1), id (4), length (4), data, checksum (2).
  let at = 6;
  while (at < bytes.length) {
    if (bytes.length - at < 9) break;
    const level = bytes[at];
    const id = bytes.readUInt16LE(at + 1);
    const length = bytes.readUInt32LE(at + 5);
    const start = at + 9;
    if (length > bytes.length - start) {
      out.notes.push("winmail.dat is cut short; what came before the cut was read");
      break;
    }
    const data = bytes.subarray(start, start + length);
    at = start + length + 2; // the checksum is not checked: Outlook's are sometimes wrong, and the data is only read
    if (id === attAttachRendData || (level === LEVEL_ATTACHMENT && pending.length === 0)) {
      // An attribute before any attRendData still belongs to an attachment (seen in the wild).
      if (budget.files === MAX_TNEF_FILES) {
        out.notes.push(`winmail.dat holds more than ${MAX_TNEF_FILES} attachments; the rest stay in it (the raw message keeps them)`);
        break;
      }
      budget.files++;
      pending.push({ title: null, data: null, props: new Map() });
    }
    if (level === LEVEL_ATTACHMENT) {
      const file = pending[pending.length - 1];
      if (id === attAttachTitle) file.title = data;
      else if (id === attAttachData) file.data = data;
      else if (id === attAttachment) readProps(data, file.props);
    } else if (id === attOemCodepage && length >= 4) codepage = data.readUInt32LE(0);
    else if (id === attBody) body = data;
    else if (id === attSubject) subject = data;
    else if (id === attRecipTable) recipients = readRows(data);
    else if (id === attMapiProps) message = readProps(data, new Map());
  }

  // A name, type or id is a short string: at most SHORT_BYTES of it are read (a crafted one may be 30 MB).
  const text = (v: Value | undefined) => shortText(v, codepage);
  for (const p of pending) {
    const data = p.data ?? attachedBytes(p.props.get(PR_ATTACH_DATA));
    if (!data) continue;
    const name = text(p.props.get(PR_ATTACH_LONG_FILENAME)) || (p.title ? string8(p.title.subarray(0, SHORT_BYTES), codepage) : null) || text(p.props.get(PR_ATTACH_FILENAME)) || text(p.props.get(PR_DISPLAY_NAME));
    const embedded = embeddedStream(p.props);
    const inner = embedded && depth < MAX_DEPTH ? readStream(embedded, depth + 1, budget) : null;
    if (inner) out.notes.push(...inner.content.notes);
    out.files.push({ name: name || null, contentType: text(p.props.get(PR_ATTACH_MIME_TAG)) || null, contentId: text(p.props.get(PR_ATTACH_CONTENT_ID)) || null, data, message: inner ? messageOf(inner) : null });
  }

  const plain = message.get(PR_BODY);
  out.text = (body ? string8(body, codepage) : null) || (plain ? valueText(plain, codepage) : null) || null;
  const html = message.get(PR_BODY_HTML);
  if (html) {
    const cpid = message.get(PR_INTERNET_CPID);
    // The HTML's own codepage (PR_INTERNET_CPID) when given, else the stream's.
    const cp = cpid && cpid.bytes.length >= 4 ? cpid.bytes.readUInt32LE(0) : codepage;
    out.html = (html.type === PT_UNICODE ? unicode(html.bytes) : string8(html.bytes, cp)) || null;
  }
  if (out.text === null && out.html === null) out.rtf = message.get(PR_RTF_COMPRESSED)?.bytes ?? null;
  return { content: out, message, codepage, subject, recipients };
}

/** The TNEF stream of an attached mail: method 5, its object after IID_IMessage ([MS-OXTNEF] 2.1.3.4); null for a file. */
function embeddedStream(props: Map<number, Value>): Buffer | null {
  const method = props.get(PR_ATTACH_METHOD);
  const v = props.get(PR_ATTACH_DATA);
  if (!method || method.type !== PT_LONG || method.bytes.readUInt32LE(0) !== ATTACH_EMBEDDED_MSG) return null;
  if (!v || v.type !== PT_OBJECT || !v.bytes.subarray(0, 16).equals(IID_IMESSAGE)) return null;
  const stream = v.bytes.subarray(16);
  return isTnef(stream) ? stream : null;
}

/** What a mail inside winmail.dat says of itself: its headers when it arrived by mail, else its MAPI properties. */
function messageOf(s: Stream): TnefMessage {
  const p = s.message;
  const text = (id: number) => shortText(p.get(id), s.codepage);
  const headers = p.get(PR_TRANSPORT_MESSAGE_HEADERS);
  return {
    headers: headers ? valueText({ type: headers.type, bytes: headers.bytes.subarray(0, HEADER_BYTES) }, s.codepage) : null,
    subject: text(PR_SUBJECT) || (s.subject ? string8(s.subject.subarray(0, SHORT_BYTES), s.codepage) : null) || null,
    from: person(text(PR_SENT_REPRESENTING_NAME) ?? text(PR_SENDER_NAME), text(PR_SENT_REPRESENTING_SMTP_ADDRESS) ?? text(PR_SENT_REPRESENTING_EMAIL_ADDRESS) ?? text(PR_SENDER_SMTP_ADDRESS) ?? text(PR_SENDER_EMAIL_ADDRESS)),
    to: recipientsOf(s, 1),
    cc: recipientsOf(s, 2),
    date: fileTime(p.get(PR_CLIENT_SUBMIT_TIME)) ?? fileTime(p.get(PR_MESSAGE_DELIVERY_TIME)),
    messageId: text(PR_INTERNET_MESSAGE_ID) || null,
    content: s.content,
  };
}

/** Recipients of one kind (PR_RECIPIENT_TYPE: 1 To, 2 Cc; Bcc is not shown). */
function recipientsOf(s: Stream, kind: number): string[] {
  const out: string[] = [];
  for (const row of s.recipients) {
    const type = row.get(PR_RECIPIENT_TYPE);
    if (!type || type.type !== PT_LONG || type.bytes.readUInt32LE(0) !== kind) continue;
    const one = person(shortText(row.get(PR_DISPLAY_NAME), s.codepage), shortText(row.get(PR_SMTP_ADDRESS), s.codepage) ?? shortText(row.get(PR_EMAIL_ADDRESS), s.codepage));
    if (one) out.push(one);
  }
  return out;
}

/**
 * A person as nodemailer takes one: name and address, the address only when it is an internet one
 * (Exchange also stores X.500 names such as /O=EXCHANGELABS/OU=…/CN=…, which mean nothing outside).
 */
function person(name: string | null, address: string | null): string | null {
  const internet = address && /^[^\s@<>]+@[^\s@<>]+$/.test(address) ? address : null;
  if (name && internet) return `"${name.replace(/["\\]/g, "")}" <${internet}>`;
  return internet ?? (name ? `"${name.replace(/["\\]/g, "")}"` : null);
}

/** A PT_SYSTIME value (100-ns intervals since 1601) as a Date; null when absent or out of range. */
function fileTime(v: Value | undefined): Date | null {
  if (!v || v.type !== PT_SYSTIME || v.bytes.length < 8) return null;
  const ms = Number(v.bytes.readBigUInt64LE(0) / 10_000n) - 11_644_473_600_000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) || ms < 0 ? null : date;
}

/** A recipient table ([MS-OXTNEF] 2.1.3.3 attRecipTable): a row count, then each row a property list. */
function readRows(b: Buffer): Map<number, Value>[] {
  const rows: Map<number, Value>[] = [];
  if (b.length < 4) return rows;
  const count = Math.min(b.readUInt32LE(0), MAX_RECIPIENTS);
  let at = 4;
  for (let i = 0; i < count && at < b.length; i++) {
    const row = new Map<number, Value>();
    at = readPropsAt(b, at, row);
    // A row cut short still gives what it read; nothing after it is read.
    rows.push(row);
    if (at < 0) break;
  }
  return rows;
}

const shortText = (v: Value | undefined, codepage: number | null) => (v ? valueText({ type: v.type, bytes: v.bytes.subarray(0, SHORT_BYTES) }, codepage) : null);

/**
 * A MAPI property list ([MS-OXTNEF] 2.1.3.4) into `into`: the first value of each property by id.
 * Named properties (id ≥ 0x8000) are skipped. A list that runs past its bytes, or has a type whose
 * size is unknown, ends there: what came before it is kept.
 */
function readProps(b: Buffer, into: Map<number, Value>): Map<number, Value> {
  readPropsAt(b, 0, into);
  return into;
}

/** readProps of the list at `from`: where it ends, or -1 when it runs past the bytes. */
function readPropsAt(b: Buffer, from: number, into: Map<number, Value>): number {
  if (b.length - from < 4) return -1;
  let count = b.readUInt32LE(from);
  let at = from + 4;
  const left = (n: number) => b.length - at >= n;
  // Each property takes at least 4 bytes, so a crafted count ends with the bytes.
  while (count-- > 0 && left(4)) {
    const type = b.readUInt16LE(at);
    const id = b.readUInt16LE(at + 2);
    at += 4;
    if (id >= 0x8000) {
      // PropertySet GUID (16), Kind (4): 0 = a numeric id (4), 1 = a name: its length (4), UTF-16LE padded to 4.
      if (!left(20)) return -1;
      const kind = b.readUInt32LE(at + 16);
      at += 20;
      if (kind === 0) at += 4;
      else {
        if (!left(4)) return -1;
        const size = b.readUInt32LE(at);
        at += 4;
        if (!left(size)) return -1;
        at += pad4(size);
      }
    }
    const base = type & ~MV_FLAG;
    const variable = base === PT_STRING8 || base === PT_UNICODE || base === PT_BINARY || base === PT_OBJECT;
    const fixed = FIXED_SIZE[base];
    if (!variable && fixed === undefined) return -1;
    let values = 1;
    if (variable || type & MV_FLAG) {
      if (!left(4)) return -1;
      values = b.readUInt32LE(at);
      at += 4;
    }
    for (let i = 0; i < values; i++) {
      let bytes: Buffer;
      if (variable) {
        if (!left(4)) return -1;
        const size = b.readUInt32LE(at);
        at += 4;
        if (!left(size)) return -1;
        bytes = b.subarray(at, at + size);
        at += pad4(size);
      } else {
        if (!left(fixed!)) return -1;
        bytes = b.subarray(at, at + fixed!);
        at += fixed!;
      }
      if (i === 0 && WANTED.has(id) && !into.has(id)) into.set(id, { type: base, bytes });
    }
  }
  // The count ran out (complete), or the bytes did.
  return count < 0 ? at : -1;
}

const pad4 = (n: number) => n + ((4 - (n % 4)) % 4);

/** An attachment's bytes from PR_ATTACH_DATA: binary as is; an object's after its 16-byte interface id ([MS-OXTNEF] 2.1.3.4). */
function attachedBytes(v: Value | undefined): Buffer | null {
  if (!v) return null;
  if (v.type === PT_BINARY) return v.bytes;
  if (v.type === PT_OBJECT && v.bytes.length > 16) return v.bytes.subarray(16);
  return null;
}

function valueText(v: Value, codepage: number | null): string | null {
  if (v.type === PT_UNICODE) return unicode(v.bytes);
  if (v.type === PT_STRING8 || v.type === PT_BINARY) return string8(v.bytes, codepage);
  return null;
}

const trimNul = (s: string) => s.replace(/\0+$/, "").trim();

function unicode(b: Buffer): string {
  return trimNul(b.subarray(0, b.length & ~1).toString("utf16le"));
}

/** 8-bit text in the stream's Windows codepage (attOemCodepage), else UTF-8 or Windows-1252 (header-text.ts). */
function string8(b: Buffer, codepage: number | null): string {
  return trimNul(decodeBytes(b, codepageLabel(codepage)));
}

/** A Windows codepage number as a charset label. */
export function codepageLabel(cp: number | null): string | null {
  if (cp === null) return null;
  if (cp === 874 || (cp >= 1250 && cp <= 1258)) return `windows-${cp}`;
  if (cp >= 28591 && cp <= 28606) return `iso-8859-${cp - 28590}`;
  const named: Record<number, string> = { 932: "shift_jis", 936: "gbk", 949: "euc-kr", 950: "big5", 866: "ibm866", 20866: "koi8-r", 21866: "koi8-u", 51932: "euc-jp", 54936: "gb18030", 65001: "utf-8", 20127: "us-ascii" };
  return named[cp] ?? null;
}

