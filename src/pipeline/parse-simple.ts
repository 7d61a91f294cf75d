// The fast path for the commonest mail: one text part (text/plain, or text/html alone), read without
// the stream machinery of the MIME parser. A cold ingest of a 4 KB plain mail spent ~11 ms of its
// ~90 in mailparser, running once each of a few hundred stream functions that never get warm
// (issue 9, cold start). This reads such a mail with the pieces mailparser itself uses (mailsplit's
// MimeNode for the headers and the part's type, libmime, libqp: mailparser-own.ts) and gives what
// mailparser would: the header lines, the Message-ID, In-Reply-To and References values, the text
// and the HTML. Anything else (multipart, an attachment, no end of the header, a large message,
// deeply nested HTML) returns null and goes through mailparser. test/parse-simple.test.ts parses
// every fixture and corpus mail both ways and requires the same result.
import { htmlToText } from "./html-convert.js";
import type { Guess } from "./charset-guess.js";
import { libmime, libqp, MimeNode, type HeaderLine, type MimeNodeLike } from "./mailparser-own.js";
import { readTextPart } from "./mailparser-text.js";

export type { HeaderLine } from "./mailparser-own.js";

export interface SimpleParse {
  headerLines: HeaderLine[];
  /** The first Message-ID and In-Reply-To values, as mailparser gives them (brackets added). */
  messageId: string | null;
  inReplyTo: string | null;
  /** Every References id of every References line, in order. */
  references: string[];
  /** The text (an HTML part's as mailparser converts it), line ends as LF; null when there is none. */
  text: string | null;
  html: string | null;
  /** The charset the text was read as when its label did not give it (body-text.ts), else null. */
  readAs: string | null;
}

/** A header's lines and thread ids, as both readings here give them. */
export type HeaderRead = Pick<SimpleParse, "headerLines" | "messageId" | "inReplyTo" | "references">;

/** What reads a text part with no usable label (body-text.ts): the message's declared charsets and its guesser. */
export interface TextHints {
  hints: readonly string[];
  guess?: Guess;
}

export interface SimpleLimits {
  /** Larger messages go through mailparser, which stops gathering a text part there. */
  maxTextBytes: number;
  /** mailparser's maxHtmlLengthToParse: longer HTML is not converted (the text stays empty). */
  htmlToTextBytes: number;
}

// Past these the fast path declines: large headers and long lines take mailsplit's bounded paths
// (maxHeadSize, lines flushed in 64 KiB pieces), which this does not imitate.
export const MAX_HEADER_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 60 * 1024;
// mailparser converts HTML nested up to this depth (MAX_HTML_NESTING_DEPTH); with fewer "<" than
// this, no HTML can nest deeper, so the fast path converts only such HTML and leaves the rest.
const HTML_DEPTH = 1000;

/** The mail read as one text part, or null when it needs the MIME parser. */
export function parseSimple(bytes: Buffer, limits: SimpleLimits, reading: TextHints = { hints: [] }): SimpleParse | null {
  if (bytes.length > limits.maxTextBytes) return null;
  const headerEnd = endOfHeader(bytes);
  if (headerEnd === null) return null;
  const head = bytes.subarray(0, headerEnd);
  // An mbox or HTTP preamble on the first line: mailsplit treats it apart.
  if (/^(From |POST )/i.test(head.subarray(0, 5).toString("latin1"))) return null;

  const node = headerNode(head);
  // The same tests mailparser makes (createNode, processChunk): an inline text leaf.
  const type = node.contentType || "text/plain";
  if (node.multipart || node.rfc822 || (type !== "text/plain" && type !== "text/html")) return null;
  if (node.disposition && node.disposition !== "inline") return null;

  let body = decodeBody(bytes.subarray(headerEnd), node.encoding || "");
  if (body === null) return null;
  if (node.flowed) body = Buffer.from(libmime.decodeFlowed(body.toString("binary"), node.delSp), "binary");
  // As mailparser (with our text reading, mailparser-text.ts) reads the part.
  const { text: decoded, readAs } = readTextPart(body, node.charset || null, reading.hints, { guess: reading.guess });
  const content = decoded.replace(/\r?\n/g, "\n");

  const read = { ...headerRead(node), text: null, html: null, readAs };
  if (content === "") return read;
  if (type === "text/plain") return { ...read, text: content };
  if (content.length > limits.htmlToTextBytes) return { ...read, text: "", html: content };
  if (count(content, "<", HTML_DEPTH) >= HTML_DEPTH) return null;
  return { ...read, text: textOfHtml(content), html: content };
}

/** mailparser's conversion of a whole-message HTML part; HTML it cannot convert leaves the text empty. */
function textOfHtml(html: string): string {
  try {
    return htmlToText(html, HTML_DEPTH);
  } catch {
    return "";
  }
}

/**
 * Where the body starts: after the first empty line (LF or CRLF), as mailsplit splits lines on LF.
 * null when there is none, when the header is empty or too large, or when any line is too long.
 */
function endOfHeader(bytes: Buffer): number | null {
  const end = headerEnd(bytes);
  if (end === null || end < 0) return null;
  for (let at = end; at < bytes.length; ) {
    const lf = bytes.indexOf(0x0a, at);
    const next = lf < 0 ? bytes.length : lf + 1;
    if (next - at > MAX_LINE_BYTES) return null;
    at = next;
  }
  return end;
}

/**
 * The header's end: the index after its empty line, or -1 when the bytes end first (all header).
 * null when the header is empty, longer than MAX_HEADER_BYTES, or has a line too long. Only the
 * header's bytes are looked at.
 */
function headerEnd(bytes: Buffer): number | null {
  for (let at = 0; at < bytes.length; ) {
    const lf = bytes.indexOf(0x0a, at);
    const next = lf < 0 ? bytes.length : lf + 1;
    if (next - at > MAX_LINE_BYTES) return null;
    if (lf >= 0 && (lf === at || (lf === at + 1 && bytes[at] === 0x0d))) return at === 0 ? null : next;
    if (next > MAX_HEADER_BYTES) return null;
    at = next;
  }
  return -1;
}

/**
 * The top-level header alone, read as the fast path reads it: for a record whose parse failed, so
 * that it still shows who wrote and about what (issue 9.1). null when the header is empty, longer
 * than the fast path reads, or has a line too long; only the header's bytes are looked at.
 */
export function readTopHeader(bytes: Buffer): HeaderRead | null {
  const end = headerEnd(bytes);
  // A message that is all header (no empty line) is all header to the MIME parser too.
  const head = end === null ? null : bytes.subarray(0, end < 0 ? bytes.length : end);
  return head?.length ? headerRead(headerNode(head)) : null;
}

/** A header block read as mailsplit reads a part's header. */
function headerNode(head: Buffer): MimeNodeLike {
  const node = new MimeNode(false, {});
  node.addHeaderChunk(head);
  node.parseHeaders();
  return node;
}

/** A read header's lines and its thread ids. */
function headerRead(node: MimeNodeLike): HeaderRead {
  const lines = node.headers.getList();
  return { headerLines: lines, ...threadIds(lines) };
}

/** The body's bytes after its Content-Transfer-Encoding, as mailsplit's decoders give them. */
function decodeBody(raw: Buffer, encoding: string): Buffer | null {
  if (encoding === "quoted-printable") return libqp.decode(raw.toString("binary"));
  if (encoding !== "base64") return raw;
  const b64 = raw.toString("latin1").replace(/[^a-zA-Z0-9+/=]/g, "");
  // libbase64's stream decoder realigns after each padding run, chunk by chunk (line by line): only
  // padding at the very end is read the same whole or in pieces.
  const pad = b64.indexOf("=");
  if (pad >= 0 && /[^=]/.test(b64.slice(pad))) return null;
  return Buffer.from(b64, "base64");
}

/** Occurrences of `ch` in text, counting no further than `enough`. */
function count(text: string, ch: string, enough: number): number {
  let n = 0;
  for (let at = text.indexOf(ch); at >= 0 && n < enough; at = text.indexOf(ch, at + 1)) n++;
  return n;
}

/** Message-ID, In-Reply-To and References as mailparser's processHeaders reads them. */
function threadIds(lines: HeaderLine[]): Pick<SimpleParse, "messageId" | "inReplyTo" | "references"> {
  let messageId: string | null = null;
  let inReplyTo: string | null = null;
  const references: string[] = [];
  for (const line of lines) {
    if (line.key !== "message-id" && line.key !== "in-reply-to" && line.key !== "references") continue;
    const value = decodeWords(Buffer.from(String(libmime.decodeHeader(line.line)?.value ?? "").trim(), "binary").toString());
    if (line.key === "references") {
      for (const id of value.split(/\s+/)) if (id) references.push(bracketed(id));
    } else if (value) {
      if (line.key === "message-id") messageId ??= bracketed(value);
      else inReplyTo ??= bracketed(value);
    }
  }
  return { messageId, inReplyTo, references };
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** mailparser's ensureMessageIDFormat. */
function bracketed(value: string): string {
  return `${value.startsWith("<") ? "" : "<"}${value}${value.endsWith(">") ? "" : ">"}`;
}
