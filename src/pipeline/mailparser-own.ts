// The MIME pieces mailparser itself runs on, for the one-part fast path (parse-simple.ts). mailparser
// pins newer copies of mailsplit, libmime (with its charset module) and libqp than the ones npm
// hoists to node_modules for imapflow (that mailsplit still unfolds header lines by splicing them out
// of an array, quadratic in the number of continuation lines): they are resolved from mailparser's
// own folder, so both readings of a mail run the same code. The bundle (scripts/bundle.mjs) replaces
// this file with static requires of the same paths: the very modules mailparser's bundled copy
// uses, in the code cache, loaded once.
import { createRequire } from "node:module";

/** Header lines as mailsplit keeps them: the lower-case key and the raw (binary) line, folding kept. */
export interface HeaderLine {
  key: string;
  line: string;
}

/** What mailsplit reads off a part's headers (the subset the fast path needs). */
export interface MimeNodeLike {
  addHeaderChunk(line: Buffer): void;
  parseHeaders(): void;
  headers: { getList(): HeaderLine[] };
  contentType: string | false;
  charset: string | false;
  encoding: string | false;
  disposition: string | false;
  flowed: boolean;
  delSp: boolean;
  multipart: string | false;
  rfc822: boolean;
}

export interface LibmimeLike {
  decodeHeader(line: string): { key: string; value: string } | null | undefined;
  decodeWords(value: string): string;
  decodeFlowed(text: string, delSp: boolean): string;
  /** The type a file name's extension stands for (application/octet-stream when none), as mailparser guesses an attachment's. */
  detectMimeType(filename: string): string;
}

const fromMailparser = createRequire(createRequire(import.meta.url).resolve("mailparser"));
const mimeNodeFile = fromMailparser.resolve("@zone-eu/mailsplit/lib/mime-node.js");

export const MimeNode = fromMailparser(mimeNodeFile) as new (parent: false, config: object) => MimeNodeLike;
export const libmime = fromMailparser("libmime") as LibmimeLike;
export const libqp = createRequire(mimeNodeFile)("libqp") as { decode(text: string): Buffer };
const charsetFile = fromMailparser.resolve("libmime/lib/charset.js");
/** libmime's charset module: decode() gives what its decoding stream gives for the whole input. */
export const charsets = fromMailparser(charsetFile) as { decode(bytes: Buffer, charset: string): string; normalizeCharset(charset: string): string };
/** The iconv-lite libmime decodes with (loaded on first use in the bundle). */
export const iconvLite = createRequire(charsetFile)("iconv-lite") as { encodingExists(name: string): boolean; decode(bytes: Buffer, encoding: string): string; encode(text: string, encoding: string): Buffer };
