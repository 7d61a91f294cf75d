// Turns a text part's bytes into text when its label does not say how: no charset (RFC 2045 §5.2
// says US-ASCII, yet 8-bit bodies with no label are common from old mailers and web forms), a
// 7-bit or UTF-8 label over bytes that are not UTF-8 (a Latin-1 body a script labelled UTF-8), or a
// label the charset library does not know ("iso-gb2312"). The MIME library reads all of these as
// UTF-8 and turns every other byte into U+FFFD, so "für März" was stored as "f�r M�rz" while the
// same mail's Subject, decoded by header-text.ts, read "für". Bodies now take the headers' order:
// UTF-8 when the bytes are UTF-8, the charsets the message declares elsewhere (its hints), a
// Chinese, Japanese or Korean charset the text is plainly in (charset-guess.ts), then Windows-1252,
// which never fails (the WHATWG Encoding Standard reads US-ASCII and ISO-8859-1 labels as
// Windows-1252 too). One exception keeps a damaged UTF-8 body: when most of its 8-bit characters
// are valid UTF-8 it is read as UTF-8 with the few bad bytes replaced, where reading it all as
// Windows-1252 would garble every good character.
// Linear in the bytes (native UTF-8 checks, one pass per candidate charset, a bounded guess).
import { isAscii, isUtf8 } from "node:buffer";
import type { Guess } from "./charset-guess.js";
import { eightBitForms, encodingOf, tryDecode, windows1252 } from "./header-text.js";

/** What a text part's bytes read as: the text, and the charset used when it is not the label's. */
export interface BodyText {
  text: string;
  /** The charset the text was read as, when the part's label did not give it; null otherwise. */
  readAs: string | null;
}

export interface BodyTextOptions {
  /** The bytes stop early (limits.maxTextBytes): a character split at the end is dropped rather than taken for a sign that the text is not UTF-8. */
  cut?: boolean;
  /** Guesses a multibyte charset when neither the label nor the hints fit (charset-guess.ts). */
  guess?: Guess;
}

/** The text of a part labelled `label` (null: none) that the MIME library would read as UTF-8, or a 7-bit charset's part with 8-bit bytes. */
export function bodyText(bytes: Buffer, label: string | null, hints: readonly string[], options: BodyTextOptions = {}): BodyText {
  if (options.cut) bytes = bytes.subarray(0, bytes.length - splitTail(bytes));
  if (isAscii(bytes)) return bytes.includes(ISO_2022_JP_SHIFT) ? asIso2022Jp(bytes) : { text: bytes.toString("utf8"), readAs: null };
  if (isUtf8(bytes)) return { text: bytes.toString("utf8"), readAs: null };
  // A label the library does not know but the Encoding Standard does (a prefix too many, "iso-gb2312"),
  // or a 7-bit charset's label over 8-bit bytes: Japanese mailers label Shift_JIS as ISO-2022-JP.
  const own = encodingOf(label);
  for (const charset of own && own !== "utf-8" && own !== "windows-1252" ? (eightBitForms(own) ?? [own]) : []) {
    const text = tryDecode(charset, bytes);
    if (text !== null) return { text, readAs: charset };
  }
  if (mostlyUtf8(bytes)) return { text: bytes.toString("utf8"), readAs: null };
  for (const hint of hints) {
    const text = tryDecode(hint, bytes);
    if (text !== null) return { text, readAs: hint };
  }
  const guessed = options.guess?.(bytes);
  const text = guessed ? tryDecode(guessed, bytes) : null;
  if (guessed && text !== null) return { text, readAs: guessed };
  return { text: windows1252(bytes), readAs: "windows-1252" };
}

// ISO-2022-JP is 7-bit: Japanese mail from before MIME, or with its label lost, shifts into JIS X
// 0208 with ESC $ B (or ESC $ @) and reads as ASCII with escapes in it (RFC 1468).
const ISO_2022_JP_SHIFT = Buffer.from("\x1b$");

function asIso2022Jp(bytes: Buffer): BodyText {
  const text = tryDecode("iso-2022-jp", bytes);
  return text === null ? { text: bytes.toString("utf8"), readAs: null } : { text, readAs: "iso-2022-jp" };
}

/**
 * More well-formed UTF-8 characters beyond ASCII than bytes that are not: UTF-8 with some damage,
 * not another charset. Counted on the bytes (lead and continuation bytes, RFC 3629 §4), without
 * decoding them.
 */
function mostlyUtf8(bytes: Buffer): boolean {
  let good = 0;
  let bad = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let k = 1;
    while (need > 0 && k <= need && i + k < bytes.length && (bytes[i + k] & 0xc0) === 0x80) k++;
    // An unfinished sequence counts once, as a decoder replaces it with one U+FFFD (its maximal subpart).
    if (need > 0 && k === need + 1) good++;
    else bad++;
    i += k;
  }
  return good > bad;
}

/** How many bytes at the end begin a UTF-8 character that the cut left unfinished (0–3). */
function splitTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
