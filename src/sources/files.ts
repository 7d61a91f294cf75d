// What `import` reads: .eml files, folders of them (walked recursively), mbox files and Maildir
// folders. A file named on the command line is an mbox when it starts with "From ", else one
// message; inside folders only *.eml, *.mbox and Maildirs are taken, the rest is listed as skipped.
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { NotFoundError } from "../errors.js";
import { isMaildir, maildirFiles } from "./maildir.js";
import { looksLikeMbox, readMbox } from "./mbox.js";

const SMALL = 256 * 1024;

export interface ImportItem {
  kind: "eml" | "mbox";
  path: string;
  size: number;
}

export interface SourceMessage {
  /** Where it came from: the file, or file#N for the Nth message of an mbox. */
  label: string;
  input: AsyncIterable<Buffer>;
  /** The whole message, when it is in memory already (mbox messages). */
  buffer?: Buffer;
  /** The file that is the whole message, when it is small enough to be read in one piece. */
  file?: string;
  /** Bytes of the source this message took (for progress). */
  bytes: number;
}

export interface Expanded {
  items: ImportItem[];
  skipped: string[];
}

export function expandPaths(paths: string[]): Expanded {
  const out: Expanded = { items: [], skipped: [] };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new NotFoundError(`import: no such file or folder: ${p}`);
    }
    if (st.isDirectory()) walk(p, out);
    else out.items.push({ kind: isMboxFile(p) ? "mbox" : "eml", path: p, size: st.size });
  }
  return out;
}

function walk(dir: string, out: Expanded): void {
  if (isMaildir(dir)) {
    for (const f of maildirFiles(dir)) out.items.push({ kind: "eml", path: f, size: statSync(f).size });
    return;
  }
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".") && !e.isDirectory()) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (!e.isFile()) continue;
    else if (extname(e.name).toLowerCase() === ".eml") out.items.push({ kind: "eml", path, size: statSync(path).size });
    else if (extname(e.name).toLowerCase() === ".mbox" || basename(e.name) === "mbox") out.items.push({ kind: "mbox", path, size: statSync(path).size });
    else out.skipped.push(path);
  }
}

function isMboxFile(path: string): boolean {
  const head = Buffer.alloc(5);
  const fd = openSync(path, "r");
  try {
    return readSync(fd, head, 0, 5, 0) === 5 && looksLikeMbox(head);
  } finally {
    closeSync(fd);
  }
}

/** The messages of one item, in order. */
export async function* messagesOf(item: ImportItem): AsyncGenerator<SourceMessage> {
  if (item.kind === "eml") {
    // Small files in one read, when the message is wanted (possibly on a worker thread); large
    // ones opened here and streamed, so they are never held in memory whole.
    if (item.size <= SMALL) {
      yield { label: item.path, input: readLater(item.path), file: item.path, bytes: item.size };
      return;
    }
    const fd = openSync(item.path, "r");
    yield { label: item.path, input: createReadStream("", { fd, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>, bytes: item.size };
    return;
  }
  for await (const m of readMbox(item.path)) yield { label: `${item.path}#${m.index}`, input: once(m.raw), buffer: m.raw, bytes: m.bytes };
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

/**
 * A source file that cannot be read is a problem of that source, not of our storage: the error
 * carries no system error code, so an import goes on with the next source instead of stopping as
 * it does when the database or the disk refuses.
 */
export class SourceReadError extends Error {
  override name = "SourceReadError";
}

export function readSourceFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SourceReadError((e as Error).message);
  }
}

async function* readLater(path: string): AsyncGenerator<Buffer> {
  yield readSourceFile(path);
}
