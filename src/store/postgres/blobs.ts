// Raw mail and attachment bytes in the PostgreSQL database (issue 11.8): every host that uses the
// database reaches them. Content-addressed: `blobs` has a row per sha256, `blob_chunks` the bytes in
// chunks of CHUNK, written and read one chunk per statement, so memory stays bounded whatever the
// size (a 50 MB attachment within 150 MB RSS). node-postgres reads bytea as text (hex) only, so a
// chunk costs several times its size while it is read: 1 MiB keeps that small and the statements few.
//
// Purge against ingest (READ COMMITTED): put() locks a blob it finds (FOR KEY SHARE) until its
// transaction ends, so the row that will refer to it commits first; deleteUnreferenced() locks the
// blobs it may delete (FOR UPDATE, skipping those an ingest holds) and only then looks for rows that
// refer to them, in a statement of its own, which sees everything committed before it.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { BLOB_REF, isBlobRef, type Blobs, type Db } from "../store.js";

const CHUNK = 1024 * 1024;
/** A JSON array parameter as a set of text values (no limit on bound variables). */
const IN_LIST = `IN (SELECT value FROM json_array_elements_text(?::json))`;
/** Blobs no staged mail or attachment refers to (`b` is the blobs row). */
const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM staged_mails s WHERE s.raw_path = '${BLOB_REF}' || b.sha256)
  AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.stored_path = '${BLOB_REF}' || b.sha256)`;

function shaOf(ref: string): string {
  const sha = ref.slice(BLOB_REF.length);
  if (!isBlobRef(ref) || !/^[0-9a-f]{64}$/.test(sha)) throw new Error(`not a blob reference: ${ref}`);
  return sha;
}

export class PostgresBlobs implements Blobs {
  constructor(private readonly db: Db) {}

  async put(sha256: string, open: () => Readable): Promise<string> {
    const ref = BLOB_REF + sha256;
    shaOf(ref);
    // Twice at most: a blob found absent may have been committed by a concurrent put meanwhile
    // (our insert waits for it and then does nothing), and then it is found.
    for (let round = 0; round < 3; round++) {
      if (await this.db.get(`SELECT 1 AS "kept" FROM blobs WHERE sha256 = ? FOR KEY SHARE`, [sha256])) return ref;
      // A savepoint: a source that fails half-way (a file gone) leaves no half blob behind.
      const stored = await this.db.write(async (tx) => {
        if ((await tx.run(`INSERT INTO blobs (sha256, size) VALUES (?, 0) ON CONFLICT (sha256) DO NOTHING`, [sha256])).changes === 0) return false;
        await copyIn(tx, sha256, open());
        return true;
      });
      if (stored) return ref;
    }
    throw new Error(`blob ${sha256}: stored and deleted again by others three times over`);
  }

  open(ref: string): Readable {
    const sha = shaOf(ref);
    const db = this.db;
    let size = -1;
    let at = 0;
    let seq = 0;
    // One chunk per read(): the next is fetched only once the consumer wants more.
    const next = async (): Promise<Buffer | null> => {
      if (size < 0) {
        const row = await db.get<{ size: number }>(`SELECT size FROM blobs WHERE sha256 = ?`, [sha]);
        if (!row) throw new Error(`${ref}: the database holds no such bytes (purged?)`);
        size = row.size;
      }
      if (at >= size) return null;
      const row = await db.get<{ data: Buffer }>(`SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = ?`, [sha, seq]);
      if (!row) throw new Error(`${ref}: chunk ${seq} is missing`);
      seq++;
      at += row.data.length;
      return row.data;
    };
    const stream: Readable = new Readable({
      read: () => {
        next().then(
          (chunk) => stream.push(chunk),
          (e: Error) => stream.destroy(e),
        );
      },
    });
    return stream;
  }

  async size(ref: string): Promise<number | null> {
    return (await this.db.get<{ size: number }>(`SELECT size FROM blobs WHERE sha256 = ?`, [shaOf(ref)]))?.size ?? null;
  }

  deleteUnreferenced(refs?: readonly string[]): Promise<{ removed: number; bytes: number }> {
    return this.db.write(async (tx) => {
      const candidates = refs
        ? [...new Set(refs.filter(isBlobRef).map(shaOf))]
        : (await tx.all<{ sha256: string }>(`SELECT sha256 FROM blobs b WHERE ${UNREFERENCED}`)).map((r) => r.sha256);
      if (!candidates.length) return { removed: 0, bytes: 0 };
      // Sorted: two purges lock in the same order. A blob an ingest holds is skipped: it is about
      // to be referred to (or, if that ingest fails, left for the next sweep).
      const locked = (await tx.all<{ sha256: string }>(`SELECT sha256 FROM blobs WHERE sha256 ${IN_LIST} ORDER BY sha256 FOR UPDATE SKIP LOCKED`, [JSON.stringify(candidates)])).map((r) => r.sha256);
      if (!locked.length) return { removed: 0, bytes: 0 };
      const gone = await tx.all<{ sha256: string; size: number }>(`SELECT sha256, size FROM blobs b WHERE sha256 ${IN_LIST} AND ${UNREFERENCED}`, [JSON.stringify(locked)]);
      const list = JSON.stringify(gone.map((g) => g.sha256));
      await tx.run(`DELETE FROM blob_chunks WHERE sha256 ${IN_LIST}`, [list]);
      await tx.run(`DELETE FROM blobs WHERE sha256 ${IN_LIST}`, [list]);
      return { removed: gone.length, bytes: gone.reduce((n, g) => n + g.size, 0) };
    });
  }
}

/** The bytes of `source` as chunks of this blob; they must hash to its name. */
async function copyIn(tx: Db, sha256: string, source: Readable): Promise<void> {
  const hash = createHash("sha256");
  // One buffer, filled and sent again and again: the driver copies it into its message.
  const buf = Buffer.allocUnsafe(CHUNK);
  let fill = 0;
  let seq = 0;
  let size = 0;
  const flush = async () => {
    await tx.run(`INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)`, [sha256, seq++, buf.subarray(0, fill)]);
    fill = 0;
  };
  for await (const piece of source) {
    const bytes = typeof piece === "string" ? Buffer.from(piece) : (piece as Buffer);
    hash.update(bytes);
    size += bytes.length;
    for (let off = 0; off < bytes.length; ) {
      const n = bytes.copy(buf, fill, off);
      fill += n;
      off += n;
      if (fill === CHUNK) await flush();
    }
  }
  if (fill) await flush();
  // A ref names its content: bytes changed since they were hashed must not go under that name.
  if (hash.digest("hex") !== sha256) throw new Error(`blob ${sha256}: the bytes given do not have that sha256`);
  await tx.run(`UPDATE blobs SET size = ? WHERE sha256 = ?`, [size, sha256]);
}
