// Reads an mbox file message by message, as bytes (never decoded, so any charset survives), holding
// one message in memory at a time however large the file, and of it at most limits.maxMessageBytes.
//   - A message starts at a "From " line at the start of the file or after a blank line (mboxrd /
//     mboxo; requiring the blank line keeps an unescaped "From " inside a body from splitting it).
//   - The From_ line itself is mbox framing, not part of the message; so is the blank line that
//     writers put after each message.
//   - mboxrd unescaping: a line ">From ", ">>From " ... loses one ">" (RFC 4155, mboxrd).
//   - Line endings are kept as they are (LF or CRLF).
import { createReadStream } from "node:fs";

export interface MboxMessage {
  /** 1-based position in the file. */
  index: number;
  raw: Buffer;
  /** Bytes of the file this message took, framing included (for progress). */
  bytes: number;
}

const FROM = Buffer.from("From ");
const QUOTED_FROM = /^>+From /;

const isBlank = (line: Buffer) => line.length === 1 ? line[0] === 0x0a : line.length === 2 && line[0] === 0x0d && line[1] === 0x0a;
const startsWithFrom = (line: Buffer) => line.length >= 5 && line.subarray(0, 5).equals(FROM);

/**
 * Splits byte chunks into lines (each with its line ending); the last line may lack one. A line is
 * joined from its pieces once, at its end (joining at every chunk took a 200 MB line 16 s), and
 * only its first `maxLine` bytes are kept: a longer one is yielded cut there, without its ending.
 */
export async function* lines(chunks: AsyncIterable<Buffer>, maxLine = Infinity): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let kept = 0;
  const take = (piece: Buffer) => {
    if (kept >= maxLine) return;
    const part = piece.length > maxLine - kept ? piece.subarray(0, maxLine - kept) : piece;
    // A piece of a chunk that the stream reuses is copied; a whole line inside one chunk is not.
    pieces.push(part);
    kept += part.length;
  };
  const line = () => {
    const out = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, kept);
    pieces = [];
    kept = 0;
    return out;
  };
  for await (const chunk of chunks) {
    let start = 0;
    let nl = chunk.indexOf(0x0a, start);
    while (nl !== -1) {
      take(chunk.subarray(start, nl + 1));
      yield line();
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) take(Buffer.from(chunk.subarray(start)));
  }
  if (kept) yield line();
}

/**
 * Messages of an mbox given as byte chunks. Throws if the data does not start with a From_ line.
 * A message's bytes are kept to `maxBytes` + 1 (limits.maxMessageBytes: the import then keeps its
 * headers and the start of its body and marks it cut, as ingest does on stdin); the rest is read
 * past to find the next message, not held (a 500 MB message took 1.17 GB).
 */
export async function* parseMbox(chunks: AsyncIterable<Buffer>, maxBytes = Infinity): AsyncGenerator<MboxMessage> {
  let body: MessageBytes | null = null;
  let bytes = 0;
  let index = 0;
  let prevBlank = true; // the start of the file counts as after a blank line
  for await (const line of lines(chunks, maxBytes + 1)) {
    if (prevBlank && startsWithFrom(line)) {
      if (body) yield { index, raw: body.finish(), bytes };
      body = new MessageBytes(maxBytes + 1);
      index += 1;
      bytes = line.length;
      prevBlank = false;
      continue;
    }
    if (!body) {
      if (isBlank(line)) continue; // blank lines before the first From_ are harmless
      throw new Error('not an mbox file: it does not start with a "From " line');
    }
    bytes += line.length;
    prevBlank = isBlank(line);
    body.add(line[0] === 0x3e && QUOTED_FROM.test(line.subarray(0, 64).toString("latin1")) ? line.subarray(1) : line);
  }
  if (body) yield { index, raw: body.finish(), bytes };
}

/** Bytes joined from this many lines' worth at a time: a Buffer per line of a 100 MB message weighed more than its bytes. */
const BLOCK = 1024 * 1024;

/**
 * One message's lines, kept to `max` bytes, joined into blocks of about 1 MiB as they come (which
 * also lets go of the read chunks the lines were cut from). The last line is held back: a blank one
 * is the framing before the next From_ line (or the end of the file), not the message's.
 */
class MessageBytes {
  private readonly blocks: Buffer[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private kept = 0;
  private last: Buffer | null = null;

  constructor(private readonly max: number) {}

  add(line: Buffer): void {
    if (this.last) this.keep(this.last);
    this.last = line;
  }

  finish(): Buffer {
    if (this.last && !isBlank(this.last)) this.keep(this.last);
    const all = [...this.blocks, ...this.pending];
    return all.length === 1 ? all[0] : Buffer.concat(all, this.kept);
  }

  private keep(line: Buffer): void {
    if (this.kept >= this.max) return;
    const part = line.length > this.max - this.kept ? line.subarray(0, this.max - this.kept) : line;
    this.kept += part.length;
    // A line of a block's size or more is a block as it is: copying it again would hold it twice.
    if (this.pending.length === 0 && part.length >= BLOCK) return void this.blocks.push(part);
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (this.pendingBytes >= BLOCK) {
      this.blocks.push(Buffer.concat(this.pending, this.pendingBytes));
      this.pending = [];
      this.pendingBytes = 0;
    }
  }
}

export function readMbox(path: string, maxBytes = Infinity): AsyncGenerator<MboxMessage> {
  return parseMbox(createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, maxBytes);
}

/** True when the first bytes look like an mbox From_ line. */
export function looksLikeMbox(head: Buffer): boolean {
  return startsWithFrom(head);
}
