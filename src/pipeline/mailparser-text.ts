// mailparser, with the text parts it would read as UTF-8 (no charset, a US-ASCII or UTF-8 label, a
// refused or unknown one) or as garbage (an ISO-2022-JP label over Shift_JIS bytes) read by
// body-text.ts instead: UTF-8 when they are, else the message's own charsets, else Windows-1252.
// mailparser has no option for it: the subclass marks such a part's charset in createNode, and its
// decoder (getDecoder, which mailparser asks for each labelled part) gathers that part's bytes and
// decodes them whole at the end. Both are mailparser's own methods, overridden as a subclass may;
// test/parse.test.ts and test/parse-simple.test.ts catch an upgrade that stops calling them (a
// body read as "f\uFFFDr" again, or the two readings differing).
import { isAscii } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";
import type { MailParser } from "mailparser";
import { bodyText, type BodyText, type BodyTextOptions } from "./body-text.js";
import type { Guess } from "./charset-guess.js";
import { eightBitForms, encodingOf } from "./header-text.js";
import { charsets, iconvLite } from "./mailparser-own.js";

// mailparser's own tests (mail-parser.js): the labels whose bodies it reads as UTF-8 without a
// decoder, and those it refuses to decode from (UTF-7 could smuggle "<script>" past a filter).
const READ_AS_UTF8 = new Set(["ascii", "usascii", "utf8"]);
const REFUSED = /^(?:(?:cs)?unicode11)?utf7(?:imap)?$|^base64$|^hex$/;
// libmime decodes these with encoding-japanese rather than iconv-lite (charset.js).
const JAPANESE = /^jis|^iso-?2022-?jp|^EUCJP/i;

/**
 * Whether mailparser decodes a text part labelled `label` itself: a charset libmime knows. The rest
 * it reads as UTF-8, replacing what is not; body-text.ts reads those.
 */
export function mailparserDecodes(label: string | false | null | undefined): boolean {
  const bare = (label || "").toLowerCase().replace(/[^a-z0-9]+/g, "");
  if (!bare || READ_AS_UTF8.has(bare) || REFUSED.test(bare) || sevenBit(label)) return false;
  const name = charsets.normalizeCharset(label as string);
  return JAPANESE.test(name) || iconvLite.encodingExists(name);
}

/** A 7-bit charset's label (ISO-2022-JP and its kin), whose part may hold another charset's 8-bit bytes. */
const sevenBit = (label: string | false | null | undefined) => eightBitForms(encodingOf(label || null) ?? "") !== null;

/**
 * A text part's text, as both readings give it: a charset mailparser decodes, and a 7-bit charset's
 * part in 7 bits, as libmime reads it (through a UTF-8 Buffer, as its decoding stream gives it: a
 * lone surrogate becomes U+FFFD); anything else by body-text.ts.
 */
export function readTextPart(bytes: Buffer, label: string | null, hints: readonly string[], options: BodyTextOptions = {}): BodyText {
  if (mailparserDecodes(label) || (sevenBit(label) && isAscii(bytes))) return { text: Buffer.from(charsets.decode(bytes, label!)).toString(), readAs: null };
  return bodyText(bytes, label, hints, options);
}

export interface TextReading {
  /** The charsets the message declares, as far as it has been read (header-text.ts charsetHints). */
  hints: () => readonly string[];
  /** Bytes kept of one part (about limits.maxTextBytes): the rest is read and dropped. */
  maxBytes: number;
  /** Told the charset a part was read as, when its label did not give it. */
  readAs: (charset: string) => void;
  /** The message's guesser of East Asian charsets (charset-guess.ts). */
  guess: Guess;
}

/** A tree node as createNode makes it: a leaf has a decoder and perhaps a charset. */
interface ParserNode {
  decoder?: unknown;
  charset?: string;
}

/** The part of mailparser's instance this subclass relies on. */
interface ParserInternals {
  options: { textReading?: TextReading };
  createNode(node: unknown): ParserNode;
  getDecoder(): { decodeStream(charset: string): Transform };
}

// A charset no library knows, so mailparser hands the part to getDecoder's decodeStream.
const UNDECODED = "x-ingest-mail-undecoded:";

let made: { base: typeof MailParser; sub: typeof MailParser } | undefined;

/** mailparser's MailParser with its text parts read as above, given `textReading` in its options. */
export function textReadingParser(Base: typeof MailParser): typeof MailParser {
  if (made?.base === Base) return made.sub;
  const Internal = Base as unknown as new (options: object) => ParserInternals;
  class TextReadingParser extends Internal {
    override createNode(node: unknown): ParserNode {
      const created = super.createNode(node);
      if (created.decoder && this.options.textReading && !mailparserDecodes(created.charset)) created.charset = UNDECODED + (created.charset ?? "");
      return created;
    }

    override getDecoder(): { decodeStream(charset: string): Transform } {
      const base = super.getDecoder();
      // Called from mailparser's constructor: options are set by then, nothing of this class is.
      const reading = this.options.textReading;
      return {
        decodeStream: (charset: string) => (reading && charset.startsWith(UNDECODED) ? new WholeText(charset.slice(UNDECODED.length) || null, reading) : base.decodeStream(charset)),
      };
    }
  }
  made = { base: Base, sub: TextReadingParser as unknown as typeof MailParser };
  return made.sub;
}

/** Gathers a part's bytes (up to reading.maxBytes) and gives its text, as UTF-8, at the end. */
class WholeText extends Transform {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(
    private readonly label: string | null,
    private readonly reading: TextReading,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const room = this.reading.maxBytes - this.size;
    if (chunk.length > room) this.cut = true;
    if (room > 0) {
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(kept);
      this.size += kept.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const { text, readAs } = readTextPart(Buffer.concat(this.chunks, this.size), this.label, this.reading.hints(), { cut: this.cut, guess: this.reading.guess });
    if (readAs) this.reading.readAs(readAs);
    this.push(Buffer.from(text));
    done();
  }
}
