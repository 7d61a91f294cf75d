// Reads the raw message once, before anything else (issue 9.1: nothing here parses MIME or decodes
// headers, and every step is linear in the input). Small mail stays in one buffer (stored in the
// database); past the inline limit the bytes are spilled to a spool file as they arrive, so a 50 MB
// message is never held in memory. Past limits.maxMessageBytes only the headers and a bounded head
// of the body are kept; the rest is read and discarded, never written to disk (issue 9.3).
import { createHash, randomBytes } from "node:crypto";
import { closeSync, createReadStream, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { GarbageEvery } from "./memory.js";
import { RedeliveryHasher } from "./redelivery-key.js";

export interface RawMessage {
  /** Bytes received (the whole message, even when only its head was kept). */
  size: number;
  sha256: string;
  /** sha256 of the message without its trace fields: with the envelope recipient, the redelivery key. */
  contentKey: string;
  /** The bytes, when size ≤ the inline limit (or the kept head of a truncated message). */
  buffer: Buffer | null;
  /** The spool file, when larger. Durable (file and folder fsynced) once readRaw returns, unless transient. */
  path: string | null;
  /** The spool file was there already (same content staged before): never remove it on failure. */
  existed: boolean;
  /** Larger than maxMessageBytes: `buffer` holds the headers and the first TRUNCATED_BODY_BYTES of the body. */
  truncated: boolean;
}

export interface ReadRawOptions {
  spoolDir: string;
  inlineMaxBytes: number;
  /** Past this many bytes the message is cut to its head (default: no limit). */
  maxMessageBytes?: number;
  /** fsync the spool file; import relaxes this since its source files remain. */
  durable?: boolean;
  /** Called with the temporary spool file while it exists, and null once it is gone or renamed
   * (so a signal handler can remove it: issue 9.6). */
  onTempFile?: (path: string | null) => void;
  /**
   * PostgreSQL (issue 11.8): the spool file is only the way into the database, whose staging
   * commit copies it (and makes it durable). It stays this delivery's own temporary file (two
   * deliveries of the same bytes must not share one: each removes its own after its commit), is
   * not fsynced, and stays the signal handler's to remove.
   */
  transient?: boolean;
}

/** What a message over the size limit keeps of its body (issue 9.3). */
export const TRUNCATED_BODY_BYTES = 64 * 1024;
/** ...and of its header section, however long (a hostile header block is no reason to keep megabytes). */
const TRUNCATED_HEADER_BYTES = 1024 * 1024;

export async function readRaw(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, opts: ReadRawOptions): Promise<RawMessage> {
  const hash = createHash("sha256");
  const identity = new RedeliveryHasher();
  const max = opts.maxMessageBytes ?? Number.POSITIVE_INFINITY;
  const chunks: Buffer[] = [];
  let size = 0;
  let written = 0;
  let fd: number | null = null;
  let tmp: string | null = null;
  const gc = new GarbageEvery();
  try {
    for await (const piece of input) {
      const chunk = typeof piece === "string" ? Buffer.from(piece) : piece;
      gc.add(chunk.length);
      hash.update(chunk);
      identity.update(chunk);
      const before = size;
      size += chunk.length;
      if (before >= max) continue; // past the limit: read and discarded
      const keep = size > max ? chunk.subarray(0, max - before) : chunk;
      if (fd === null && before + keep.length > opts.inlineMaxBytes) {
        const path = join(opts.spoolDir, tempName());
        fd = inFolder(path, () => openSync(path, "wx+", MODE_FILE));
        tmp = path; // only once it exists: the clean-up below must not hide why it could not be made
        opts.onTempFile?.(tmp);
        for (const c of chunks) writeAll(fd, c);
        chunks.length = 0;
      }
      if (fd !== null) writeAll(fd, keep);
      else chunks.push(keep);
      written += keep.length;
    }
    const sha256 = hash.digest("hex");
    const contentKey = identity.digest();
    if (size > max) {
      const headEnd = identity.headerBytes < 0 ? written : identity.headerBytes;
      const headLength = Math.min(written, Math.min(headEnd, TRUNCATED_HEADER_BYTES) + TRUNCATED_BODY_BYTES);
      const head = fd === null ? Buffer.concat(chunks, written).subarray(0, headLength) : readHead(fd, headLength);
      if (fd !== null) {
        ftruncateSync(fd, 0);
        closeSync(fd);
        fd = null;
        rmSync(tmp!, { force: true });
        opts.onTempFile?.(null);
      }
      return { size, sha256, contentKey, buffer: Buffer.from(head), path: null, existed: false, truncated: true };
    }
    if (fd === null) return { size, sha256, contentKey, buffer: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), path: null, existed: false, truncated: false };
    if (opts.transient) {
      closeSync(fd);
      fd = null;
      return { size, sha256, contentKey, buffer: null, path: tmp, existed: false, truncated: false };
    }
    if (opts.durable !== false) fsyncSync(fd);
    closeSync(fd);
    fd = null;
    const path = join(opts.spoolDir, `${sha256}.eml`);
    const existed = existsSync(path);
    renameSync(tmp!, path);
    opts.onTempFile?.(null);
    // The rename is durable only once the folder's entry is (issue 9.7).
    if (opts.durable !== false) fsyncDir(opts.spoolDir);
    return { size, sha256, contentKey, buffer: null, path, existed, truncated: false };
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (tmp) rmSync(tmp, { force: true });
    opts.onTempFile?.(null);
    throw e;
  }
}

function readHead(fd: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

// Folders are made when a file cannot be created or moved for want of one, not checked before
// every spooled mail or attachment (they exist but for the first; `purge` may remove one meanwhile).
export const MODE_FILE = 0o660; // issue 10: the umask (fileMode) decides; never "other"
const MODE_DIR = 0o770;

/** Making the folder is the remedy, or names the cause (a file where a folder should be). */
const NO_FOLDER = new Set(["ENOENT", "ENOTDIR"]);

/** Runs a file operation on `path`; when it fails for want of its folder, makes the folder and runs it again. */
export function inFolder<T>(path: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (!NO_FOLDER.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
    mkdirSync(dirname(path), { recursive: true, mode: MODE_DIR });
    return op();
  }
}

let tempPrefix: string | undefined;
let tempCount = 0;

/**
 * A temporary file's name in our folders (`recover` removes old `.tmp-*` ones): this process's id,
 * a random part drawn once per process (a pid is reused), and a count.
 */
export const tempName = () => `.tmp-${process.pid}-${(tempPrefix ??= randomBytes(6).toString("hex"))}-${++tempCount}`;

export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** fsync a folder so that a file created or renamed in it survives a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The message bytes as a stream, wherever they are kept. */
export function rawStream(raw: Pick<RawMessage, "buffer" | "path">): Readable {
  if (raw.buffer) return Readable.from([raw.buffer]);
  if (!raw.path) return Readable.from([]);
  const stream = createReadStream(raw.path, { highWaterMark: 256 * 1024 });
  const gc = new GarbageEvery();
  // Paused first: a 'data' listener alone would start the flow at once, and what is read before
  // the consumer attaches (after an await: parseMail loads the MIME parser first) went to this
  // counter only. The consumer's pipe or read starts it; this listener sees every chunk then too.
  stream.pause();
  stream.on("data", (chunk: Buffer | string) => gc.add(chunk.length));
  return stream;
}
