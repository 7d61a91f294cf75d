// Reads the raw message once. Small mail stays in one buffer (stored in the database); past the
// inline limit the bytes are spilled to a spool file as they arrive, so a 50 MB message is never
// held in memory (issue: peak RSS ≤ 150 MB).
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, createReadStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";

export interface RawMessage {
  size: number;
  sha256: string;
  /** The bytes, when size ≤ the inline limit. */
  buffer: Buffer | null;
  /** The spool file, when larger. Durable (fsynced) once readRaw returns. */
  path: string | null;
  /** The spool file was there already (same content staged before): never remove it on failure. */
  existed: boolean;
}

export interface ReadRawOptions {
  spoolDir: string;
  inlineMaxBytes: number;
  /** fsync the spool file; import relaxes this since its source files remain. */
  durable?: boolean;
}

export async function readRaw(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, opts: ReadRawOptions): Promise<RawMessage> {
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let size = 0;
  let fd: number | null = null;
  let tmp: string | null = null;
  try {
    for await (const piece of input) {
      const chunk = typeof piece === "string" ? Buffer.from(piece) : piece;
      hash.update(chunk);
      size += chunk.length;
      if (fd === null && size > opts.inlineMaxBytes) {
        mkdirSync(opts.spoolDir, { recursive: true });
        tmp = join(opts.spoolDir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
        fd = openSync(tmp, "wx", 0o600);
        for (const c of chunks) writeAll(fd, c);
        chunks.length = 0;
      }
      if (fd !== null) writeAll(fd, chunk);
      else chunks.push(chunk);
    }
    const sha256 = hash.digest("hex");
    if (fd === null) return { size, sha256, buffer: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), path: null, existed: false };
    if (opts.durable !== false) fsyncSync(fd);
    closeSync(fd);
    fd = null;
    const path = join(opts.spoolDir, `${sha256}.eml`);
    const existed = existsSync(path);
    renameSync(tmp!, path);
    return { size, sha256, buffer: null, path, existed };
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (tmp) rmSync(tmp, { force: true });
    throw e;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** The message bytes as a stream, wherever they are kept. */
export function rawStream(raw: Pick<RawMessage, "buffer" | "path">): Readable {
  if (raw.buffer) return Readable.from([raw.buffer]);
  if (raw.path) return createReadStream(raw.path, { highWaterMark: 256 * 1024 });
  return Readable.from([]);
}
