// Where a row's bytes are (issue 11.8). staged_mails.raw_path and attachments.stored_path name a
// file on this host (SQLite: one host, files beside the database) or a blob in the database
// (PostgreSQL, `blob:<sha256>`: every host that uses the database reaches it). Every reader and
// writer of spooled raw mail and attachment files goes through here.
import { closeSync, createReadStream, openSync, readSync, rmSync, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { isBlobRef, type Blobs, type Db } from "../store/store.js";
import { GarbageEvery } from "./memory.js";
import { rawStream } from "./read-raw.js";

function blobsOf(db: Db, ref: string): Blobs {
  if (!db.blobs) throw new Error(`${ref}: this database keeps no bytes of its own`);
  return db.blobs;
}

/**
 * Garbage is collected more often for bytes that pass through the database driver than for a file
 * (memory.ts): a chunk read leaves some ten times its size behind (the driver's receive buffer,
 * doubled until the message fits; bytea's hex text; the decoded bytes). Measured with a 50 MB
 * attachment parsed from the database: every 24 MB, 165–188 MB peak RSS; every 4 MB, 120–130 MB on a
 * quiet machine but 125–151 MB under the test suite's load; every 2 MB, 117–121 MB in five runs, the
 * test file no slower (SQLite's file: 107 MB); 1 MB: 117 MB, twice the time.
 */
const DRIVER_GC_BYTES = 2 * 1024 * 1024;

function counted(stream: Readable): Readable {
  const gc = new GarbageEvery(DRIVER_GC_BYTES);
  stream.on("data", (chunk: Buffer) => gc.add(chunk.length));
  return stream;
}

/** The bytes, streamed (a file, or the database's blob chunk by chunk). */
export function openStored(db: Db, path: string): Readable {
  if (!isBlobRef(path)) return rawStream({ buffer: null, path });
  return counted(blobsOf(db, path).open(path));
}

/** Their size in bytes, or null when the file or blob is missing (purged). */
export async function storedSize(db: Db, path: string): Promise<number | null> {
  if (isBlobRef(path)) return blobsOf(db, path).size(path);
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

/** The first `maxBytes` of them (at most). */
export async function storedHead(db: Db, path: string, maxBytes: number): Promise<Buffer> {
  if (!isBlobRef(path)) {
    const buf = Buffer.alloc(maxBytes);
    const fd = openSync(path, "r");
    try {
      return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of blobsOf(db, path).open(path)) {
    parts.push(chunk as Buffer);
    n += (chunk as Buffer).length;
    if (n >= maxBytes) break; // the rest is never fetched
  }
  return Buffer.concat(parts, n).subarray(0, maxBytes);
}

/**
 * What a row keeps of a local file written on this host (a spool file, an attachment file), in
 * this transaction: its path (SQLite), or the ref of its bytes copied into the database
 * (PostgreSQL; bytes the database holds already are not copied again).
 */
export async function keepStored(tx: Db, sha256: string, path: string): Promise<string> {
  return tx.blobs ? tx.blobs.put(sha256, () => counted(createReadStream(path, { highWaterMark: 256 * 1024 }))) : path;
}

/**
 * After the commit that copied them into the database (PostgreSQL), the local files were only the
 * way there: they go. SQLite keeps its files (they are what the rows point to).
 */
export function releaseLocal(db: Db, paths: Iterable<string | null>): void {
  if (!db.blobs) return;
  for (const p of paths) if (p && !isBlobRef(p)) rmSync(p, { force: true });
}
