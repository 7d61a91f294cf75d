// Issue 14: `show ID --raw` and `attachment get ID`: the bytes exactly as received / extracted.
import { existsSync } from "node:fs";
import { getAttachment } from "../../store/queries/export-queries.js";
import { getStaged, rawOf } from "../../store/queries/queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import type { Deps } from "../../pipeline/deps.js";
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
  if (row.rawPath && existsSync(row.rawPath)) return void (await report(await writeOut({ path: row.rawPath }, opts, "the raw message"), opts));
  throw new NotFoundError(row.rawPath ? `staged mail ${id}: its spool file ${row.rawPath} is missing` : `staged mail ${id} keeps no raw bytes (purged)`);
}

async function report(r: { written: string; bytes: number }, opts: OutputOptions): Promise<void> {
  // Said on stderr, so a pipe gets only the bytes.
  if (opts.output !== undefined) process.stderr.write(`wrote ${r.bytes} bytes to ${r.written}\n`);
}

export async function attachmentGet(id: number, opts: CommonOptions & OutputOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const a = await getAttachment(deps.db, id);
  if (!a) throw new NotFoundError(`no attachment ${id}`);
  if (!existsSync(a.storedPath)) throw new NotFoundError(`attachment ${id}: its file ${a.storedPath} is missing (purged?)`);
  if (opts.json) {
    // --json describes the attachment (and writes the file only with -o).
    const written = opts.output !== undefined ? await writeOut({ path: a.storedPath }, opts, "the attachment") : null;
    return printJson({ ...a, written: written?.written ?? null });
  }
  await report(await writeOut({ path: a.storedPath }, opts, "the attachment"), opts);
}
