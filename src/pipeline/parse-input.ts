// Prepares the raw bytes for the MIME parser, as a stream (the message is never held twice):
// - a leading mbox "From " line is dropped: Postfix pipe(8) with the F flag and procmail put one
//   before the message, and it is not a header;
// - a message whose lines end in bare CR (old Mac mail, sisimai's maildir/mac) gets LF line
//   endings, else the parser sees one endless header line and finds no subject;
// - the charsets the message declares (charset= parameters, encoded words) are noted as hints for
//   decoding headers that carry raw 8-bit text.
// The stored raw message is not changed by any of this.
import { Transform, type TransformCallback } from "node:stream";

const SCAN_LIMIT = 1024 * 1024; // charset declarations sit in part headers near the top
const CHARSET = /charset\s*=\s*["']?([A-Za-z0-9_.:+-]{1,40})|=\?([A-Za-z0-9_.:+-]{1,40})(?:\*[A-Za-z-]*)?\?[bBqQ]\?/g;

/** The fixes, chunk by chunk, without stream machinery (a message in memory is fed in one call). */
export class InputFixer {
  /** Charset labels the message declares, in order of appearance. */
  readonly declaredCharsets = new Set<string>();
  private out: Buffer[] = [];
  private started = false;
  private head: Buffer = Buffer.alloc(0);
  private crOnly = false;
  private pendingCr = false;
  private scanned = 0;
  private scanTail = "";

  /** The bytes to parse for this chunk (possibly none yet, possibly more than one piece). */
  feed(chunk: Buffer): Buffer[] {
    let data = chunk;
    if (!this.started) {
      // Decide on the first lines: wait for a few line breaks (or 4 KiB, or the end).
      this.head = this.head.length ? Buffer.concat([this.head, data]) : data;
      if (this.head.length < 4096 && lineBreaks(this.head, 3) < 3) return [];
      data = this.start(this.head, firstLineBreak(this.head));
      this.head = Buffer.alloc(0);
    }
    this.emit_(data);
    return this.take();
  }

  /** What is left at the end of the message. */
  finish(): Buffer[] {
    if (!this.started) this.emit_(this.start(this.head, firstLineBreak(this.head)));
    if (this.pendingCr) this.push(Buffer.from("\n"));
    return this.take();
  }

  private push(b: Buffer): void {
    this.out.push(b);
  }

  private take(): Buffer[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private start(head: Buffer, eol: number): Buffer {
    this.started = true;
    let body = head;
    const firstLine = head.subarray(0, eol < 0 ? head.length : eol).toString("latin1");
    if (eol >= 0 && /^From \S/.test(firstLine) && !/^From\s+:/.test(firstLine)) {
      let next = eol + 1;
      if (head[eol] === 0x0d && head[next] === 0x0a) next++;
      body = head.subarray(next);
    }
    // Bare CR line endings: the first line break is a CR not followed by LF.
    const first = firstLineBreak(body);
    this.crOnly = first >= 0 && body[first] === 0x0d && first + 1 < body.length && body[first + 1] !== 0x0a;
    return body;
  }

  private emit_(data: Buffer): void {
    if (data.length === 0) return;
    this.scan(data);
    if (!this.crOnly) {
      this.push(data);
      return;
    }
    if (this.pendingCr) {
      // The previous chunk ended in CR: kept before an LF (a CRLF pair), else it becomes LF.
      this.pendingCr = false;
      this.push(Buffer.from(data[0] === 0x0a ? "\r" : "\n"));
    }
    const out = Buffer.from(data); // a copy: the caller's buffer is not ours to change
    let end = out.length;
    if (out[end - 1] === 0x0d) {
      this.pendingCr = true;
      end--;
    }
    for (let i = 0; i < end; i++) if (out[i] === 0x0d && out[i + 1] !== 0x0a) out[i] = 0x0a;
    this.push(out.subarray(0, end));
  }

  private scan(data: Buffer): void {
    if (this.scanned >= SCAN_LIMIT) return;
    const piece = data.subarray(0, SCAN_LIMIT - this.scanned);
    this.scanned += piece.length;
    const text = this.scanTail + piece.toString("latin1");
    for (const m of text.matchAll(CHARSET)) this.declaredCharsets.add((m[1] ?? m[2]).toLowerCase());
    this.scanTail = text.slice(-64); // a declaration split between chunks is found next time
  }
}

/** The fixes for a whole message in memory: the bytes to parse and the charsets it declares. */
export function fixedBytes(bytes: Buffer): { bytes: Buffer; declaredCharsets: Set<string> } {
  const fixer = new InputFixer();
  const pieces = [...fixer.feed(bytes), ...fixer.finish()];
  return { bytes: pieces.length === 1 ? pieces[0] : Buffer.concat(pieces), declaredCharsets: fixer.declaredCharsets };
}

/** Index of the first LF or CR, or -1 (indexOf runs natively; a per-byte callback did not). */
function firstLineBreak(buf: Buffer): number {
  return nextBreak(buf, 0);
}

/** Line breaks (CR or LF bytes) in buf, counting no further than `enough`. */
function lineBreaks(buf: Buffer, enough: number): number {
  let n = 0;
  for (let at = firstLineBreak(buf); at >= 0 && n < enough; at = nextBreak(buf, at + 1)) n++;
  return n;
}

function nextBreak(buf: Buffer, from: number): number {
  const lf = buf.indexOf(0x0a, from);
  const cr = buf.indexOf(0x0d, from);
  return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
}

/** The fixes as a stream stage, for messages read from a file or a pipe. */
export class ParseInput extends Transform {
  private readonly fixer = new InputFixer();

  get declaredCharsets(): Set<string> {
    return this.fixer.declaredCharsets;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (const b of this.fixer.feed(chunk)) this.push(b);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    for (const b of this.fixer.finish()) this.push(b);
    cb();
  }
}
