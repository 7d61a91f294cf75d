// Reads an mbox file message by message, as bytes (never decoded, so any charset survives), holding
// one message in memory at a time however large the file.
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

/** Splits byte chunks into lines (each with its line ending); the last line may lack one. */
export async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const chunk of chunks) {
    let start = 0;
    let nl = chunk.indexOf(0x0a, start);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl + 1);
      yield carry ? Buffer.concat([carry, piece]) : piece;
      carry = null;
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) carry = carry ? Buffer.concat([carry, chunk.subarray(start)]) : Buffer.from(chunk.subarray(start));
  }
  if (carry && carry.length) yield carry;
}

/** Messages of an mbox given as byte chunks. Throws if the data does not start with a From_ line. */
export async function* parseMbox(chunks: AsyncIterable<Buffer>): AsyncGenerator<MboxMessage> {
  let current: Buffer[] | null = null;
  let bytes = 0;
  let index = 0;
  let prevBlank = true; // the start of the file counts as after a blank line
  const finish = (): MboxMessage => {
    const body = current!;
    // The blank line before the next From_ (or at the end of the file) is framing.
    if (body.length && isBlank(body[body.length - 1])) body.pop();
    return { index, raw: Buffer.concat(body), bytes };
  };
  for await (const line of lines(chunks)) {
    if (prevBlank && startsWithFrom(line)) {
      if (current) yield finish();
      current = [];
      index += 1;
      bytes = line.length;
      prevBlank = false;
      continue;
    }
    if (!current) {
      if (isBlank(line)) continue; // blank lines before the first From_ are harmless
      throw new Error('not an mbox file: it does not start with a "From " line');
    }
    bytes += line.length;
    prevBlank = isBlank(line);
    current.push(line[0] === 0x3e && QUOTED_FROM.test(line.subarray(0, 64).toString("latin1")) ? line.subarray(1) : line);
  }
  if (current) yield finish();
}

export function readMbox(path: string): AsyncGenerator<MboxMessage> {
  return parseMbox(createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>);
}

/** True when the first bytes look like an mbox From_ line. */
export function looksLikeMbox(head: Buffer): boolean {
  return startsWithFrom(head);
}
