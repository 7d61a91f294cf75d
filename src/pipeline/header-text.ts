// Turns header bytes into text. Real mail is not always what RFC 2047 / RFC 6532 promise: raw 8-bit
// headers in the sender's local charset (GB2312, Shift_JIS, Latin-1), encoded words whose declared
// charset is wrong (ISO-2022-JP holding Shift_JIS bytes), multibyte characters split across
// encoded words. Decoding tries the declared charset, then UTF-8, then the charsets the message
// itself declares elsewhere (its hints), then Windows-1252, which never fails.
// Pure functions: bytes travel as "binary" strings (one char per byte), as mailsplit hands them over.
import { isAscii } from "node:buffer";
import addressparser from "./address-list.js";

export interface Address {
  address: string;
  name: string;
}

const MULTIBYTE = new Set(["gb18030", "big5", "shift_jis", "euc-jp", "euc-kr", "utf-16le", "utf-16be"]);

// 7-bit charsets cannot hold 8-bit bytes; when they do, the sender meant the 8-bit form of the
// same script (Japanese mailers label Shift_JIS as ISO-2022-JP).
const EIGHT_BIT_FORMS: Record<string, string[]> = {
  "iso-2022-jp": ["shift_jis", "euc-jp"],
  "iso-2022-kr": ["euc-kr"],
  "iso-2022-cn": ["gb18030"],
  "hz-gb-2312": ["gb18030"],
};

/** The 8-bit charsets a 7-bit charset's label stands for when its bytes are 8-bit ("shift_jis", "euc-jp" for ISO-2022-JP); null for other charsets. */
export function eightBitForms(encoding: string): readonly string[] | null {
  return EIGHT_BIT_FORMS[encoding] ?? null;
}

/** The WHATWG encoding name for a MIME charset label, or null when it cannot be decoded. */
export function encodingOf(label: string | null | undefined): string | null {
  const l = (label ?? "").trim().toLowerCase().replace(/\*.*$/, ""); // RFC 2231 language suffix
  if (!l) return null;
  if (l in EIGHT_BIT_FORMS) return l;
  // GB2312 mail is routinely GBK/GB18030 in practice; the superset decodes both.
  if (l === "gb2312" || l === "gbk" || l === "x-gbk" || l === "cp936" || l === "euc-cn") return "gb18030";
  if (/^(x-)?(unicode-1-1-)?utf-?7$/.test(l)) return null; // UTF-7 is refused, as mailparser does
  // An unknown label is told by the error TextDecoder throws; mail may name thousands of made-up
  // charsets (issue 9.3: 60,000 in one header), and capturing each error's stack was most of the
  // cost. Node's own errors take the limit as it is when they are made.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const enc = new TextDecoder(l).encoding;
    // "replacement" decodes nothing; "x-user-defined" is a browser's, mapping 8-bit bytes to
    // private-use characters: neither is a mail's charset, so such labels count as unknown.
    return enc === "replacement" || enc === "x-user-defined" ? null : enc;
  } catch {
    // Home-made labels such as "iso-gb2312" or "x-gbk": try the name without its prefix.
    const bare = l.replace(/^(iso-|x-)/, "");
    return bare !== l ? encodingOf(bare) : null;
  } finally {
    Error.stackTraceLimit = limit;
  }
}


/** Bytes decoded in `encoding` (a WHATWG name), or null when they are not valid in it. */
export function tryDecode(encoding: string, bytes: Buffer): string | null {
  if (encoding === "windows-1252") return windows1252(bytes);
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

// index-windows-1252 of the WHATWG Encoding Standard for 0x80–0x9F; every other byte is its Latin-1
// code point. Node 20's TextDecoder("windows-1252") decodes as Latin-1 (0x93 as the C1 control
// U+0093, not “), and every label that means Latin-1 or US-ASCII maps to windows-1252.
const CP1252_80_9F =
  "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
  "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

// Built on first use: most mail never needs it, and every cold ingest loads this module.
let cp1252: Uint16Array | undefined;

/** Bytes read as Windows-1252, which never fails. One table lookup a byte into UTF-16, which Node decodes natively. */
export function windows1252(bytes: Buffer): string {
  const table = (cp1252 ??= Uint16Array.from({ length: 256 }, (_, b) => (b >= 0x80 && b <= 0x9f ? CP1252_80_9F.charCodeAt(b - 0x80) : b)));
  const units = Buffer.allocUnsafe(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const c = table[bytes[i]];
    units[2 * i] = c & 0xff;
    units[2 * i + 1] = c >> 8;
  }
  return units.toString("utf16le");
}

/** Normalises the charsets a message declares into an ordered candidate list (multibyte first). */
export function charsetHints(labels: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const label of labels) {
    const enc = encodingOf(label);
    if (!enc) continue;
    for (const e of EIGHT_BIT_FORMS[enc] ?? [enc]) if (e !== "utf-8" && e !== "windows-1252") out.add(e);
  }
  const list = [...out];
  return [...list.filter((e) => MULTIBYTE.has(e)), ...list.filter((e) => !MULTIBYTE.has(e))];
}

/** Decodes bytes: declared charset, UTF-8, the hints, then Windows-1252 (which never fails). */
export function decodeBytes(bytes: Buffer, declared: string | null, hints: readonly string[] = []): string {
  const enc = encodingOf(declared);
  const eightBit = !isAscii(bytes);
  if (!eightBit && (!enc || !(enc in EIGHT_BIT_FORMS || enc.startsWith("utf-16")))) return bytes.toString("latin1");
  const candidates: string[] = [];
  if (enc && enc in EIGHT_BIT_FORMS) candidates.push(...(eightBit ? EIGHT_BIT_FORMS[enc] : [enc]));
  else if (enc) candidates.push(enc);
  candidates.push("utf-8", ...hints);
  for (const c of candidates) {
    const text = tryDecode(c, bytes);
    if (text !== null) return text;
  }
  return windows1252(bytes);
}

const binary = (s: string) => Buffer.from(s, "latin1");

// RFC 2047 §2: =?charset?encoding?encoded-text?=
const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toLowerCase() === "b") return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
  // Q: "_" is a space, =XX a byte (RFC 2047 §4.2).
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "_") out.push(0x20);
    else if (c === "=" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

/**
 * Decodes an unstructured header value given as a binary string: encoded words (adjacent words of
 * one charset joined byte-wise first, whitespace between them dropped, RFC 2047 §6.2) and raw
 * 8-bit text. Folding line breaks are removed (RFC 5322 §2.2.3).
 */
export function decodeHeaderValue(raw: string, hints: readonly string[] = []): string {
  const value = raw.replace(/\r?\n(?=[ \t])/g, "").replace(/[\r\n]+/g, "");
  const parts: string[] = [];
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = () => {
    if (pending) parts.push(decodeBytes(Buffer.concat(pending.bytes), pending.charset, hints));
    pending = null;
  };
  let last = 0;
  for (const m of value.matchAll(ENCODED_WORD)) {
    const gap = value.slice(last, m.index);
    if (gap && !(pending && /^\s*$/.test(gap))) {
      flush();
      parts.push(decodeBytes(binary(gap), null, hints));
    }
    const charset = m[1].replace(/\*.*$/, "");
    const bytes = wordBytes(m[2], m[3]);
    const current = pending as { charset: string; bytes: Buffer[] } | null;
    if (current && current.charset.toLowerCase() === charset.toLowerCase()) current.bytes.push(bytes);
    else {
      flush();
      pending = { charset, bytes: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  if (last < value.length) parts.push(decodeBytes(binary(value.slice(last)), null, hints));
  return parts.join("");
}

interface ParsedAddress {
  name?: string;
  address?: string;
  group?: ParsedAddress[];
}

/** An address list header (binary string) → addresses with decoded names; groups flattened. */
export function parseAddresses(raw: string, hints: readonly string[] = []): Address[] {
  const value = raw.replace(/\r?\n(?=[ \t])/g, "").replace(/[\r\n]+/g, " ");
  const out: Address[] = [];
  const walk = (list: ParsedAddress[]) => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else {
        const address = decodeBytes(binary((a.address ?? "").trim()), null, hints).trim();
        out.push({ address, name: decodeHeaderValue(a.name ?? "", hints).replace(/\s+/g, " ").trim() });
      }
    }
  };
  walk(addressparser(value) as ParsedAddress[]);
  return out;
}

// RFC 822 allowed a mailbox without a domain ("MAILER-DAEMON (Mail Delivery System)").
// Matched against the trimmed line, with no two whitespace runs side by side in the pattern: that
// shape ("a", 200 KB of spaces, "x") took a minute of backtracking (issue 9.3).
const LOCAL_ONLY = /^<?([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)>?(?:\s*\((.*)\))?$/;

export interface SenderHeaders {
  from: string[];
  replyTo: string[];
  sender: string[];
}

/**
 * Who wrote (domain.md §2 "take the sender address"): the first From mailbox with a domain, any
 * From header (some mail carries a broken one and a good one); when From names nobody, Reply-To,
 * then Sender, as Zammad does; last, a domain-less From mailbox such as MAILER-DAEMON.
 */
export function pickWriter(h: SenderHeaders, hints: readonly string[] = []): Address | null {
  for (const lines of [h.from, h.replyTo, h.sender]) {
    for (const line of lines) {
      const hit = parseAddresses(line, hints).find((a) => a.address.includes("@"));
      if (hit) return hit;
    }
  }
  for (const line of h.from) {
    const m = LOCAL_ONLY.exec(line.replace(/\r?\n(?=[ \t])/g, "").trim());
    if (m) return { address: m[1], name: decodeHeaderValue(m[2] ?? "", hints).trim() };
  }
  return null;
}
