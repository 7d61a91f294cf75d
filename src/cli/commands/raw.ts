// Issue 14: `show ID --raw` and `attachment get ID`: the bytes exactly as received / extracted.
import { getAttachment } from "../../store/queries/export-queries.js";
import { getStaged, rawOf } from "../../store/queries/queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import type { Deps } from "../../pipeline/deps.js";
import { openStored, storedSize } from "../../pipeline/stored-bytes.js";
import { isBlobRef } from "../../store/store.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { writeOut, type OutputOptions } from "../write-out.js";

/** The staged mail's raw bytes, from the row or its spool file (byte-identical to what came in). */
export async function writeRaw(deps: Deps, id: number, opts: OutputOptions & CommonOptions): Promise<void> {
  if (opts.json) throw new UsageError("--raw writes the message itself; leave out --json");
  const row = await rawOf(deps.db, id);
  if (!row) throw new NotFoundError(`no staged mail ${id}`);
  // Issue 9: over limits.maxMessageBytes only the headers and a bounded head were kept.
  if ((await getStaged(deps.db, id))?.rawTruncated) process.stderr.write(`ingest-mail: staged mail ${id} was larger than limits.maxMessageBytes; only its headers and the start of its body were kept\n`);
  if (row.raw) return void (await report(await writeOut(row.raw, opts, "the raw message"), opts));
  const path = row.rawPath;
  // Issue 11.8: a spool file of this host, or (PostgreSQL) the bytes in the database, from any host.
  if (path && (await storedSize(deps.db, path)) !== null) return void (await report(await writeOut(() => openStored(deps.db, path), opts, "the raw message"), opts));
  throw new NotFoundError(path ? `staged mail ${id}: ${isBlobRef(path) ? `its bytes (${path}) are missing from the database` : `its spool file ${path} is missing`}` : `staged mail ${id} keeps no raw bytes (purged)`);
}

async function report(r: { written: string; bytes: number }, opts: OutputOptions): Promise<void> {
  // Said on stderr, so a pipe gets only the bytes.
  if (opts.output !== undefined) process.stderr.write(`wrote ${r.bytes} bytes to ${r.written}\n`);
}

export async function attachmentGet(id: number, opts: CommonOptions & OutputOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const a = await getAttachment(deps.db, id);
  if (!a) throw new NotFoundError(`no attachment ${id}`);
  if ((await storedSize(deps.db, a.storedPath)) === null) throw new NotFoundError(`attachment ${id}: its ${isBlobRef(a.storedPath) ? "bytes" : "file"} ${a.storedPath} ${isBlobRef(a.storedPath) ? "are" : "is"} missing (purged?)`);
  const open = () => openStored(deps.db, a.storedPath);
  if (opts.json) {
    // --json describes the attachment (and writes the file only with -o).
    const written = opts.output !== undefined ? await writeOut(open, opts, "the attachment") : null;
    return printJson({ ...a, written: written?.written ?? null });
  }
  await report(await writeOut(open, opts, "the attachment"), opts);
}
