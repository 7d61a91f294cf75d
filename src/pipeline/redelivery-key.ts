// Issue 9.5: a redelivery is the same message bytes for the same envelope recipient, ignoring the
// trace fields an MTA prepends on each delivery attempt (RFC 5321 §4.4: Received, Return-Path;
// Postfix/procmail: Delivered-To, X-Original-To) and the line-ending form (IMAP and LMTP hand over
// CRLF what a local delivery wrote with LF). This hashes the message as it streams in, with those
// fields left out of the header section, in one linear pass: no parsing before staging.
import { createHash, type Hash } from "node:crypto";

const TRACE_FIELDS = new Set(["received", "return-path", "delivered-to", "x-original-to"]);
// A field name longer than this is no trace field: decide without buffering more of it.
const MAX_NAME = 32;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const CRLF = Buffer.from([CR, LF]);
const CR_ONLY = Buffer.from([CR]);
const LF_ONLY = Buffer.from([LF]);

type FieldState = "keep" | "skip" | "name";

export class RedeliveryHasher {
  private readonly hash: Hash = createHash("sha256");
  private inHeaders = true;
  private atLineStart = true;
  /** A lone CR at the start of a line: the blank line that ends the headers, if LF follows. */
  private pendingCr = false;
  private state: FieldState = "keep";
  private name: number[] = [];
  /** Bytes of the header section (up to and including the blank line), once it has ended. */
  headerBytes = -1;
  private seen = 0;
  /** A CR at the end of the last hashed piece: dropped if an LF follows (CRLF hashes as LF). */
  private heldCr = false;

  update(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    // Kept bytes are hashed in runs (slices of the chunk), not byte by byte: a hostile header
    // section of many megabytes stays one linear pass.
    let runStart = this.state === "keep" ? 0 : -1;
    const flushRun = (end: number) => {
      if (runStart >= 0 && end > runStart) this.put(chunk.subarray(runStart, end));
      runStart = -1;
    };
    while (i < n && this.inHeaders) {
      const b = chunk[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (b === LF) {
          this.endHeaders(CRLF, this.seen + i + 1);
          i++;
          break;
        }
        // A CR that is not part of a blank line starts a new field.
        this.startField();
        this.name.push(CR);
      } else if (this.atLineStart) {
        this.atLineStart = false;
        if (b === LF || b === CR) {
          flushRun(i);
          if (b === CR) this.pendingCr = true;
          else this.endHeaders(LF_ONLY, this.seen + i + 1);
          i++;
          if (b === LF) break;
          continue;
        }
        // Folded continuation lines belong to the field before them (RFC 5322 §2.2.3).
        if (b !== SP && b !== TAB) {
          flushRun(i);
          this.startField();
        }
      }
      if (this.state === "name") {
        this.name.push(b);
        if (b === COLON || b === LF || this.name.length > MAX_NAME) {
          this.decide();
          if ((this.state as FieldState) === "keep") runStart = i + 1;
        }
      } else if (this.state === "keep" && runStart < 0) runStart = i;
      if (b === LF) this.atLineStart = true;
      i++;
    }
    if (this.inHeaders) flushRun(i);
    else if (i < n) this.put(chunk.subarray(i));
    this.seen += n;
  }

  /** The message's identity with the trace fields left out (hex sha256). */
  digest(): string {
    if (this.inHeaders) this.flushName();
    if (this.heldCr) this.hash.update(CR_ONLY);
    this.heldCr = false;
    return this.hash.digest("hex");
  }

  /** Hashes bytes with every CRLF as LF (a lone CR stays). Linear: one indexOf scan. */
  private put(buf: Buffer): void {
    if (!buf.length) return;
    let start = 0;
    if (this.heldCr) {
      this.heldCr = false;
      if (buf[0] !== LF) this.hash.update(CR_ONLY);
    }
    for (let i = buf.indexOf(CR); i >= 0; i = buf.indexOf(CR, i + 1)) {
      if (i + 1 === buf.length) {
        this.hash.update(buf.subarray(start, i));
        this.heldCr = true;
        return;
      }
      if (buf[i + 1] === LF) {
        this.hash.update(buf.subarray(start, i));
        start = i + 1;
      }
    }
    this.hash.update(buf.subarray(start));
  }

  private startField(): void {
    this.flushName();
    this.state = "name";
    this.name = [];
  }

  private decide(): void {
    const bytes = Buffer.from(this.name);
    const colon = bytes.indexOf(COLON);
    const fieldName = colon < 0 ? "" : bytes.subarray(0, colon).toString("latin1").trim().toLowerCase();
    this.state = TRACE_FIELDS.has(fieldName) ? "skip" : "keep";
    if (this.state === "keep") this.put(bytes);
    this.name = [];
  }

  private flushName(): void {
    if (this.state === "name" && this.name.length) this.put(Buffer.from(this.name));
    this.name = [];
    this.state = "keep";
  }

  private endHeaders(blank: Buffer, headerBytes: number): void {
    this.flushName();
    this.put(blank);
    this.inHeaders = false;
    this.headerBytes = headerBytes;
  }
}

/** The staged record's unique key: the same message for the same envelope recipient. */
export function redeliveryKey(contentKey: string, recipient: string | null): string {
  return `v2:${contentKey}:${(recipient ?? "").trim().toLowerCase()}`;
}
