// Separates the message into its components (Maximo: to, from, cc, subject, message) and streams
// each attachment to a file named by its content hash: a name from the mail never reaches the disk.
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { AttachmentStream, MessageText } from "mailparser";
import { MAX_MESSAGE_ID } from "./field-limits.js";
import { charsetHints, decodeBytes, decodeHeaderValue, parseAddresses, pickWriter, type Address } from "./header-text.js";
import { htmlToText } from "./html-convert.js";
import { stripTags } from "./html-strip.js";
import { charsetGuesser } from "./charset-guess.js";
import { textReadingParser, type TextReading } from "./mailparser-text.js";
import { fixedBytes, ParseInput } from "./parse-input.js";
import { libmime } from "./mailparser-own.js";
import { readTopHeader, parseSimple } from "./parse-simple.js";
import { sealedMail } from "./sealed.js";
import type { TnefContent } from "./tnef.js";
import { fsyncDir, inFolder, MODE_FILE, tempName, writeAll } from "./read-raw.js";

export type { Address } from "./header-text.js";

export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  sha256: string;
  storedPath: string;
}

export interface ParsedMail {
  headerBlock: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: Address | null;
  to: Address[];
  cc: Address[];
  deliveredTo: string[];
  subject: string | null;
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  /** Files this parse created (not already present), removed again if staging fails. */
  createdFiles: string[];
  /** Notes for the trace: the text was cut, HTML was stripped instead of converted. */
  notes: string[];
  /** Charsets text parts were read as where their label did not give one (body-text.ts), for the trace. */
  readAs: string[];
  /** What parsing did besides reading (winmail.dat unpacked, text that is sealed), for the trace: [decision, reason]. */
  steps: [string, string][];
}

/** Issue 9.3: what parsing may cost, whatever the mail. */
export interface ParseLimits {
  /** Text kept of the body; the raw message keeps everything (default 1 MiB). */
  maxTextBytes: number;
  /** HTML up to this size is converted with html-to-text; larger HTML is stripped in one linear pass. */
  htmlToTextBytes: number;
  /** Parsing stops with an error past this many milliseconds. */
  parseMs: number;
  /** fsync attachment files and their folders (issue 9.7); import relaxes it. */
  durable: boolean;
}

export const defaultParseLimits: ParseLimits = { maxTextBytes: 1024 * 1024, htmlToTextBytes: 256 * 1024, parseMs: 10_000, durable: false };

/** Parsing ran past limits.parseSeconds: the record ends in `error`, its raw bytes kept. */
export class ParseBudgetError extends Error {}

const MAX_STORED_NAME = 255;

/** What a message with nothing readable in it parses to. */
export function emptyParsedMail(): ParsedMail {
  return { headerBlock: "", messageId: null, inReplyTo: null, references: [], from: null, to: [], cc: [], deliveredTo: [], subject: null, date: null, text: null, html: null, attachments: [], createdFiles: [], notes: [], readAs: [], steps: [] };
}

/**
 * Parses a message given as a stream, or as bytes already in memory (fewer stream stages; a one-part
 * text mail skips the MIME parser, parse-simple.ts). how.simple false: always the MIME parser.
 */
export async function parseMail(source: Readable | Buffer, attachmentsDir: string, limits: ParseLimits = defaultParseLimits, how: { simple?: boolean; inner?: boolean } = {}): Promise<ParsedMail> {
  const deadline = Date.now() + limits.parseMs;
  // A message in memory is fixed once (parse-input.ts), for whichever reading takes it.
  const fixed = Buffer.isBuffer(source) ? fixedBytes(source) : null;
  const simple = fixed && how.simple !== false ? parsedSimply(fixed, limits) : null;
  if (simple) {
    withinBudget(deadline, limits);
    return simple;
  }
  // keepDeliveryStatus: a DSN's machine-readable report (RFC 3464) is kept as an attachment, not
  // mixed into the body text. maxHtmlLengthToParse: the parser converts HTML only up to our cap
  // (issue 9.3); larger HTML is stripped below in one linear pass. maxTextBytes (an option our bundle adds to mailparser, scripts/bundle.mjs) stops a text part
  // from being gathered whole: a 90 MB text body must not cost 90 MB several times over.
  // Loaded here, on the first mail that needs it: one-part mail never does (parsedSimply).
  // textReading: text parts with no charset, or one they are not in, read as body-text.ts says.
  const { MailParser } = await import("mailparser");
  const input = fixed ? null : new ParseInput();
  const readAs = new Set<string>();
  const textReading: TextReading = {
    hints: () => charsetHints((fixed ?? input!).declaredCharsets),
    maxBytes: limits.maxTextBytes + 4,
    readAs: (charset) => void readAs.add(charset),
    guess: charsetGuesser(),
  };
  const parser = new (textReadingParser(MailParser))({
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    keepDeliveryStatus: true,
    maxHtmlLengthToParse: limits.htmlToTextBytes,
    maxTextBytes: limits.maxTextBytes + 4,
    textReading,
  } as ConstructorParameters<typeof import("mailparser").MailParser>[0]);
  const out = emptyParsedMail();
  const pending: Promise<void>[] = [];
  /** Attachments being written: a parse that fails ends them, so each removes its temporary file. */
  const writing = new Set<Readable>();
  const names: RawName[] = [];
  const storing: Storing = { dir: attachmentsDir, out, names, readAs, durable: limits.durable, tnefBody: null, signedBody: null, deadline, limits, inner: how.inner === true, unwrapped: false };
  const order = new Map<ParsedAttachment, number>();
  let seen = 0;
  let headerLines: HeaderLine[] = [];
  parser.on("headerLines", (lines: HeaderLine[]) => {
    headerLines = lines;
  });
  parser.on("headers", (h: Map<string, unknown>) => {
    out.messageId = ownMessageId(h.get("message-id"), out.notes);
    out.inReplyTo = msgId(h.get("in-reply-to"));
    out.references = msgIds(h.get("references"));
  });
  parser.on("data", (data: AttachmentStream | MessageText) => {
    if (Date.now() >= deadline) parser.destroy(budgetError(limits));
    if (data.type === "attachment") {
      const index = seen++;
      writing.add(data.content);
      const done = storeAttachment(data, storing)
        .then((list) => list.forEach((a, k) => order.set(a, index + k / list.length)))
        .finally(() => {
          writing.delete(data.content);
          data.release?.();
        });
      done.catch(() => {}); // surfaced through Promise.all below
      pending.push(done);
    } else {
      out.text = data.text ?? null;
      out.html = typeof data.html === "string" ? data.html : null;
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      parser.once("end", resolve);
      parser.once("error", reject);
      if (!input) {
        parser.end(fixed!.bytes);
        return;
      }
      const stream = source as Readable;
      input.once("error", reject);
      stream.once("error", reject);
      stream.pipe(input).pipe(parser);
    });
  } catch (e) {
    // A parser that fails (a limit of mailsplit's, the budget) leaves the part it was in the middle
    // of unended: its writer would wait for ever and leave its temporary file behind.
    for (const content of writing) content.destroy(e as Error);
    await Promise.allSettled(pending);
    throw e;
  }
  await Promise.all(pending);
  // Files finish writing in any order; the record keeps the order of the parts in the message.
  out.attachments.sort((a, b) => order.get(a)! - order.get(b)!);

  out.readAs = [...readAs];
  const hints = charsetHints((fixed ?? input!).declaredCharsets);
  // A mail whose only body is inside an S/MIME signature, or in winmail.dat (Exchange sends some so), takes its text from there.
  if (noText(out) && !out.html && storing.signedBody) ({ text: out.text, html: out.html } = storing.signedBody);
  if (noText(out) && !out.html && storing.tnefBody) await textFromTnef(storing.tnefBody, out);
  for (const n of names) n.attachment.filename = cleanName(n.raw8bit ? decodeBytes(Buffer.from(n.name, "latin1"), null, hints) : n.name);
  finish(out, headerLines, hints, limits, storing.unwrapped);
  withinBudget(deadline, limits);
  return out;
}

const budgetError = (limits: ParseLimits) => new ParseBudgetError(`parsing took longer than limits.parseSeconds (${limits.parseMs / 1000} s)`);

function withinBudget(deadline: number, limits: ParseLimits): void {
  if (Date.now() >= deadline) throw budgetError(limits);
}

/** A one-part text mail read without the MIME parser (parse-simple.ts), or null. */
function parsedSimply(fixed: { bytes: Buffer; declaredCharsets: Set<string> }, limits: ParseLimits): ParsedMail | null {
  const hints = charsetHints(fixed.declaredCharsets);
  const simple = parseSimple(fixed.bytes, limits, { hints, guess: charsetGuesser() });
  if (!simple) return null;
  const out = withThreadIds(simple);
  out.text = simple.text;
  out.html = simple.html;
  if (simple.readAs) out.readAs = [simple.readAs];
  finish(out, simple.headerLines, hints, limits);
  return out;
}

/**
 * The fields a record shows (sender, recipients, subject, date, ids, the header block) read from the
 * top-level header alone, for a message whose parse failed (issue 9.1: the record ends in `error`,
 * and still says who wrote and about what). No text, no attachments; null when there is no header
 * this can read. `head`: the message's first bytes; only its header is looked at.
 */
export function parsedHeadersOnly(head: Buffer): ParsedMail | null {
  const fixed = fixedBytes(head);
  const read = readTopHeader(fixed.bytes);
  if (!read) return null;
  const out = withThreadIds(read);
  readHeaders(read.headerLines, charsetHints(fixed.declaredCharsets), out);
  return out;
}

/** An empty parse holding the thread ids parse-simple.ts read, as the MIME parser's reading keeps them. */
function withThreadIds(read: { messageId: string | null; inReplyTo: string | null; references: string[] }): ParsedMail {
  const out = emptyParsedMail();
  out.messageId = ownMessageId(read.messageId, out.notes);
  out.inReplyTo = msgId(read.inReplyTo);
  out.references = msgIds(read.references);
  return out;
}

const noText = (out: ParsedMail) => (out.text ?? "").trim() === "";

/**
 * What both readings do last: the headers, HTML-only mail's text, what says why there is no text,
 * the cap on the text. `unwrapped`: an S/MIME signature's content was read (no longer sealed).
 */
function finish(out: ParsedMail, headerLines: HeaderLine[], hints: string[], limits: ParseLimits, unwrapped = false): void {
  // Headers are decoded here, from their raw bytes, once every charset the message declares is known.
  readHeaders(headerLines, hints, out);
  // domain.md §7: HTML-only mail is converted to text. The parser does so only when the HTML is the
  // whole message, not for an HTML part inside multipart/mixed or multipart/related.
  if (noText(out) && out.html) out.text = htmlText(out.html, limits, out.notes) ?? out.text;
  const contentType = headerLines.find((l) => l.key === "content-type");
  const sealed = unwrapped ? null : sealedMail(contentType ? valueOf(contentType) : null, out.text);
  if (sealed) out.steps.push(sealed);
  out.text = capText(out.text, limits.maxTextBytes, out.notes);
}

/** Issue 9.3: what an action's details and the staged text hold is capped; the raw mail keeps all. */
function capText(text: string | null, maxBytes: number, notes: string[]): string | null {
  if (text === null || text.length <= maxBytes / 4 || Buffer.byteLength(text) <= maxBytes) return text;
  // Cut on a character boundary: decoding a cut UTF-8 prefix drops at most one partial character.
  const cut = Buffer.from(text).subarray(0, maxBytes).toString("utf8").replace(/\uFFFD$/, "");
  notes.push(`the text was cut to ${maxBytes} bytes (limits.maxTextBytes); the raw message keeps all of it`);
  return `${cut}\n[... cut at ${maxBytes} bytes; the raw message keeps the whole text]`;
}

interface HeaderLine {
  key: string;
  line: string;
}

const valueOf = (l: HeaderLine) => l.line.slice(l.line.indexOf(":") + 1).replace(/^[ \t]+/, "");

function readHeaders(lines: HeaderLine[], hints: string[], out: ParsedMail): void {
  const all = (key: string) => lines.filter((l) => l.key === key).map(valueOf);
  // The header block is kept as text: UTF-8 when it is (RFC 6532), else the message's own charset.
  out.headerBlock = decodeBytes(Buffer.from(lines.map((l) => l.line).join("\n"), "latin1"), null, hints);
  out.deliveredTo = [...all("delivered-to"), ...all("x-original-to")].map((v) => v.trim().replace(/^<|>$/g, ""));
  const subject = all("subject")[0];
  const decoded = subject === undefined ? "" : decodeHeaderValue(subject, hints).trim();
  out.subject = decoded === "" ? null : decoded;
  out.from = pickWriter({ from: all("from"), replyTo: all("reply-to"), sender: all("sender") }, hints);
  const withAddress = (list: Address[]) => list.filter((a) => a.address !== "");
  out.to = withAddress(all("to").flatMap((v) => parseAddresses(v, hints)));
  out.cc = withAddress(all("cc").flatMap((v) => parseAddresses(v, hints)));
  const dateText = all("date")[0];
  // An unreadable Date header is no date (the parser itself would put the current time there).
  const date = dateText === undefined ? null : new Date(decodeHeaderValue(dateText).replace(/\s+/g, " ").trim());
  out.date = date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

/**
 * Plain text of an HTML body. html-to-text is not linear in every input (nested tags: 2.5 s at 1 MB,
 * 109 s at 4 MB, issue 9), so it only sees HTML up to limits.htmlToTextBytes; larger HTML is
 * stripped of its tags in one linear pass.
 */
function htmlText(html: string, limits: ParseLimits, notes: string[]): string | null {
  if (html.length > limits.htmlToTextBytes) {
    notes.push(`HTML of ${html.length} characters stripped of tags instead of converted (limits.htmlToTextBytes ${limits.htmlToTextBytes})`);
    return stripTags(html);
  }
  try {
    return htmlToText(html, 100);
  } catch {
    return stripTags(html);
  }
}

/** An attachment's name as the parser read it; raw8bit when its header held bytes that are not UTF-8. */
interface RawName {
  attachment: ParsedAttachment;
  name: string;
  raw8bit: boolean;
}

/** Where parts go, and what a winmail.dat's unpacking found besides files. */
interface Storing {
  dir: string;
  out: ParsedMail;
  names: RawName[];
  /** The charsets text parts were read as (ParsedMail.readAs, once parsing ends). */
  readAs: Set<string>;
  durable: boolean;
  /** The first winmail.dat holding a body, for a mail with no text of its own. */
  tnefBody: Pick<TnefContent, "text" | "html" | "rtf"> | null;
  /** The text of the first S/MIME signed-data part, for a mail with no text of its own. */
  signedBody: { text: string | null; html: string | null } | null;
  deadline: number;
  limits: ParseLimits;
  /** Parsing the content of a signature already: one inside it is not unwrapped again. */
  inner: boolean;
  /** A signature's content was read. */
  unwrapped: boolean;
}

/** A part that may be S/MIME signed-data (RFC 8551 §3.2.2; smime-type is optional, the structure says). */
function maybeSigned(att: AttachmentStream): boolean {
  const type = declaredType(att) ?? "";
  if (type === "application/pkcs7-mime" || type === "application/x-pkcs7-mime") return true;
  return /^smime\.p7m$/i.test(att.filename ?? "");
}

/** S/MIME signed-data larger than this is stored as it is: unwrapping reads it whole and parses its content (11.9 MB of it: 132 MB peak RSS, measured). */
export const MAX_SIGNED_BYTES = 12 * 1024 * 1024;

/**
 * The message inside an S/MIME signed-data part (smime-signed.ts), parsed as the part's content:
 * its attachments go in the part's place, its text is the mail's when the mail has none of its own.
 * Null when the part is not signed-data (enveloped: encrypted; or damaged).
 */
async function unwrapSigned(temp: Temp, store: Storing): Promise<ParsedAttachment[] | null> {
  if (store.inner || temp.size > MAX_SIGNED_BYTES) return null;
  const { signedContent } = await import("./smime-signed.js");
  const content = signedContent(readFileSync(temp.path));
  if (!content) return null;
  const { out } = store;
  store.unwrapped = true;
  const inner = await parseMail(content, store.dir, { ...store.limits, parseMs: Math.max(1, store.deadline - Date.now()) }, { simple: false, inner: true });
  out.createdFiles.push(...inner.createdFiles);
  out.notes.push(...inner.notes);
  for (const charset of inner.readAs) store.readAs.add(charset);
  out.steps.push(["s/mime signed-data unwrapped", "the message is inside an S/MIME signed-data structure (opaque signing, RFC 8551 §3.5.3): its text and attachments were taken out of it; the signature is not checked; the raw message keeps it"], ...inner.steps);
  if (inner.text || inner.html) store.signedBody ??= { text: inner.text, html: inner.html };
  out.attachments.push(...inner.attachments);
  return inner.attachments;
}

/** The body winmail.dat holds: its text or HTML, else its RTF read (rtf-body.ts, loaded only here). */
async function textFromTnef(body: Pick<TnefContent, "text" | "html" | "rtf">, out: ParsedMail): Promise<void> {
  let { text, html } = body;
  let how = "";
  if (!text && !html && body.rtf) {
    const { rtfBody } = await import("./rtf-body.js");
    const read = rtfBody(body.rtf);
    if (!read.body) return void out.notes.push(`winmail.dat holds the only text, and ${read.why}`);
    ({ text, html } = read.body);
    how = html ? ", from its RTF (HTML wrapped in RTF, MS-OXRTFEX)" : ", from its RTF";
  }
  // Outlook's text ends its lines with CRLF; the record's text, as the MIME parser gives it, with LF.
  out.text = text?.replace(/\r\n?/g, "\n") ?? null;
  out.html = html;
  out.steps.push(["text from winmail.dat", `the message has no text besides what winmail.dat holds${how}`]);
}

/** A part that may be winmail.dat (application/ms-tnef), to be unpacked (tnef.ts) when it is one. */
function maybeTnef(att: AttachmentStream): boolean {
  const type = (declaredType(att) ?? att.contentType ?? "").toLowerCase();
  return type === "application/ms-tnef" || type === "application/vnd.ms-tnef" || /^winmail\.dat$/i.test(att.filename ?? "");
}

/** winmail.dat larger than this is stored as it is: unpacking reads it into memory (issue 9.3's 150 MB). */
export const MAX_TNEF_BYTES = 32 * 1024 * 1024;

/**
 * Stores one part; a winmail.dat is stored as the files it holds (tnef.ts) when it holds any, in its
 * place in the part order. Each returned attachment is already in out.attachments.
 */
async function storeAttachment(att: AttachmentStream, store: Storing): Promise<ParsedAttachment[]> {
  const { dir, out, names, durable } = store;
  const temp = await writeTemp(att.content as AsyncIterable<Buffer>, dir);
  try {
    const unwrapped = maybeSigned(att) ? await unwrapSigned(temp, store) : null;
    if (unwrapped) {
      dropTemp(temp);
      return unwrapped;
    }
    // Read back from its file rather than held while it streams: one copy in memory, not two.
    const tnef = maybeTnef(att);
    // tnef.ts is loaded for such a part only, not at every start.
    const packed = tnef && temp.size <= MAX_TNEF_BYTES ? (await import("./tnef.js")).readTnef(readFileSync(temp.path)) : null;
    if (tnef && temp.size > MAX_TNEF_BYTES) out.steps.push(["winmail.dat kept", `it is ${temp.size} bytes, more than ${MAX_TNEF_BYTES} (unpacking reads it whole into memory); it is kept as an attachment`]);
    if (packed) {
      out.notes.push(...packed.notes);
      if (packed.text || packed.html || packed.rtf) store.tnefBody ??= packed;
    }
    if (!packed || packed.files.length === 0) {
      if (packed) out.steps.push(["winmail.dat kept", "it holds no files; it is kept as an attachment"]);
      const attachment: ParsedAttachment = {
        filename: cleanName(att.filename),
        contentType: declaredType(att) ?? (att.contentType || "application/octet-stream"),
        contentId: att.contentId ?? null,
        ...keepTemp(temp, dir, out, durable),
      };
      out.attachments.push(attachment);
      if (att.filename) names.push({ attachment, name: att.filename, raw8bit: nameHadRawBytes(att) });
      return [attachment];
    }
    dropTemp(temp);
    const n = packed.files.length;
    const mails = packed.files.filter((f) => f.message).length;
    const asEml = mails ? ` (${mails === n && n === 1 ? "an attached mail" : `${mails} of them attached mails`}, written out as .eml)` : "";
    out.steps.push(["winmail.dat unpacked", `${n} file${n === 1 ? "" : "s"}${asEml} taken out of winmail.dat (application/ms-tnef: Outlook's attachments, MS-OXTNEF) and stored in its place; the raw message keeps it whole`]);
    // An attached mail is written out as the message/rfc822 file other clients attach (tnef-message.ts, loaded for one only).
    const composer = mails ? await import("./tnef-message.js") : null;
    const stored: ParsedAttachment[] = [];
    for (const f of packed.files) {
      const type = f.contentType?.trim().toLowerCase();
      const attachment: ParsedAttachment =
        f.message && composer
          ? { filename: cleanName(composer.emlName(f)), contentType: "message/rfc822", contentId: null, ...(await storeBytes(await composer.composeMessage(f.message, f.data), dir, out, durable)) }
          : {
              filename: cleanName(f.name ?? undefined),
              contentType: type && MIME_TYPE.test(type) ? type : f.name ? libmime.detectMimeType(f.name) : "application/octet-stream",
              contentId: f.contentId ? `<${f.contentId.replace(/^<|>$/g, "")}>` : null,
              ...(await storeBytes([f.data], dir, out, durable)),
            };
      out.attachments.push(attachment);
      stored.push(attachment);
    }
    return stored;
  } catch (e) {
    dropTemp(temp);
    throw e;
  }
}

/** Bytes written to a temporary file in the attachment folder, hashed on the way; fd still open. */
interface Temp {
  path: string;
  fd: number | null;
  size: number;
  sha256: string;
}

async function writeTemp(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, dir: string): Promise<Temp> {
  const path = join(dir, tempName());
  const hash = createHash("sha256");
  let size = 0;
  const fd = inFolder(path, () => openSync(path, "wx", MODE_FILE));
  try {
    // Chunk by chunk as the parser gives them (issue 9.3: a 50 MB attachment is never held whole),
    // with plain writes: a stream pipeline's set-up per attachment (an AbortController, a write
    // stream opened on the thread pool, a Transform) cost more than writing a small one (importing
    // the shared corpus: 0.75 ms of CPU per attachment, an eighth of all).
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      writeAll(fd, chunk);
    }
  } catch (e) {
    dropTemp({ path, fd, size, sha256: "" });
    throw e;
  }
  return { path, fd, size, sha256: hash.digest("hex") };
}

async function storeBytes(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, dir: string, out: ParsedMail, durable: boolean): Promise<{ size: number; sha256: string; storedPath: string }> {
  const temp = await writeTemp(chunks, dir);
  try {
    return keepTemp(temp, dir, out, durable);
  } catch (e) {
    dropTemp(temp);
    throw e;
  }
}

function dropTemp(temp: Temp): void {
  if (temp.fd !== null) closeSync(temp.fd);
  temp.fd = null;
  rmSync(temp.path, { force: true });
}

/** The temporary file becomes the file named by its hash: a name from the mail never reaches the disk. */
function keepTemp(temp: Temp, dir: string, out: ParsedMail, durable: boolean): { size: number; sha256: string; storedPath: string } {
  const sub = join(dir, temp.sha256.slice(0, 2));
  const storedPath = join(sub, temp.sha256);
  const isNew = !existsSync(storedPath);
  // Issue 9.7: an attachment file is fsynced, with its folder, before the workflow commit that
  // points to it (they could be derived again from the raw bytes, but a `complete` record is
  // never re-parsed by itself, so a lost file would stay lost).
  if (isNew && durable) fsyncSync(temp.fd!);
  closeSync(temp.fd!);
  temp.fd = null;
  if (!isNew) rmSync(temp.path, { force: true });
  else {
    inFolder(storedPath, () => renameSync(temp.path, storedPath));
    if (durable) fsyncDir(sub);
    out.createdFiles.push(storedPath);
  }
  return { size: temp.size, sha256: temp.sha256, storedPath };
}

/**
 * A name in a part header written in raw 8-bit bytes that are not UTF-8 reaches us as one char per
 * byte (mailsplit keeps them so), while the parser's own reading of that header shows U+FFFD where
 * those bytes were. Such a name is decoded again from its bytes with the message's charsets.
 */
function nameHadRawBytes(att: AttachmentStream): boolean {
  const params = (key: string) => {
    const v = att.headers?.get(key) as { params?: Record<string, string> } | undefined;
    return Object.values(v?.params ?? {});
  };
  return [...params("content-disposition"), ...params("content-type")].some((p) => typeof p === "string" && p.includes("\uFFFD"));
}

const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/**
 * The type the part declares (issue 2: the original type is kept). The parser replaces
 * application/octet-stream with a guess from the file name; that guess is used only when the part
 * declares no type at all.
 */
function declaredType(att: AttachmentStream): string | null {
  const ct = att.headers?.get("content-type") as { value?: string } | undefined;
  const type = ct?.value?.trim().toLowerCase();
  return type && MIME_TYPE.test(type) ? type : null;
}

/** The original name is kept as data only; strip what could confuse a reader of it. */
function cleanName(name: string | undefined): string | null {
  if (!name) return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim(); // issue 10: bidi controls too
  return cleaned ? cleaned.slice(0, MAX_STORED_NAME) : null;
}

function msgIds(value: unknown): string[] {
  const text = (Array.isArray(value) ? value.join(" ") : typeof value === "string" ? value : "").trim();
  const ids = text.match(/<[^<>\s]+>/g);
  if (ids) return ids;
  return text ? text.split(/\s+/).map((s) => `<${s.replace(/^<|>$/g, "")}>`) : [];
}

function msgId(value: unknown): string | null {
  return msgIds(value)[0] ?? null;
}

/** The mail's own Message-ID (indexed: field-limits.ts); one too long to be a msg-id is none, noted. */
function ownMessageId(value: unknown, notes: string[]): string | null {
  const id = msgId(value);
  if (id === null || id.length <= MAX_MESSAGE_ID) return id;
  notes.push(`the Message-ID is ${id.length} characters, more than a line may hold (RFC 5322 2.1.1: ${MAX_MESSAGE_ID}); taken as none, the raw message keeps it`);
  return null;
}
