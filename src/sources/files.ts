// What `import` reads: .eml files, folders of them (walked recursively), mbox files and Maildir
// folders. A file named on the command line is an mbox when it starts with "From ", else one
// message; inside folders only *.eml, *.mbox and Maildirs are taken, the rest is listed as skipped
// with the reason (symbolic links, FIFOs, devices, empty files, other names). A folder or file that
// cannot be read is listed as unreadable: that source alone is not imported, the others are.
import { closeSync, createReadStream, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync, type Stats } from "node:fs";
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

export interface Skipped {
  path: string;
  reason: string;
}

export interface Expanded {
  items: ImportItem[];
  skipped: Skipped[];
  /** Folders and files that could not be read (permissions): not imported, the rest is. */
  unreadable: { source: string; error: string }[];
}

export function expandPaths(paths: string[]): Expanded {
  const out: Expanded = { items: [], skipped: [], unreadable: [] };
  for (const p of paths) {
    let st: Stats;
    try {
      // Followed when named on the command line, as cat does; inside folders links are not (lstat).
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") throw new NotFoundError(`import: no such file or folder: ${p}`);
      out.unreadable.push({ source: p, error: (e as Error).message });
      continue;
    }
    if (st.isDirectory()) walk(p, out);
    else take(p, st, "named", out);
  }
  return out;
}

type Where = "named" | "folder" | "maildir";

/** One file: an item, or skipped with its reason, or unreadable. */
function take(path: string, st: Stats, where: Where, out: Expanded): void {
  const skip = (reason: string) => void out.skipped.push({ path, reason });
  if (st.isSymbolicLink()) return skip("a symbolic link (not followed inside a folder)");
  // Opening a FIFO waits for a writer (the import would hang); a device never ends.
  if (!st.isFile()) return skip(`not a regular file: ${fileKind(st)}`);
  let kind: ImportItem["kind"] | null = "eml";
  if (where === "folder") kind = kindByName(path);
  if (!kind) return skip("not .eml, .mbox or in a Maildir");
  // As ingest refuses an empty stdin: no bytes is no message.
  if (st.size === 0) return skip("empty: 0 bytes, no message");
  if (where === "named") {
    try {
      if (isMboxFile(path)) kind = "mbox";
    } catch (e) {
      out.unreadable.push({ source: path, error: (e as Error).message });
      return;
    }
  }
  out.items.push({ kind, path, size: st.size });
}

function kindByName(path: string): ImportItem["kind"] | null {
  const ext = extname(path).toLowerCase();
  if (ext === ".eml") return "eml";
  if (ext === ".mbox" || basename(path) === "mbox") return "mbox";
  return null;
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "unknown type";
}

/** A folder entry: walked when a folder (not a link to one), else taken as a file. */
function entry(path: string, where: Where, out: Expanded): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    out.unreadable.push({ source: path, error: (e as Error).message });
    return;
  }
  if (!st.isDirectory()) take(path, st, where, out);
  else if (where === "maildir") out.skipped.push({ path, reason: "a folder inside a Maildir's cur/ or new/" });
  else walk(path, out);
}

function walk(dir: string, out: Expanded): void {
  const unreadable = (source: string, e: unknown) => void out.unreadable.push({ source, error: (e as Error).message });
  if (isMaildir(dir)) {
    for (const f of maildirFiles(dir, unreadable)) entry(f, "maildir", out);
    return;
  }
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    return unreadable(dir, e);
  }
  for (const e of entries) {
    if (e.name.startsWith(".") && !e.isDirectory()) continue;
    entry(join(dir, e.name), "folder", out);
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
export async function* messagesOf(item: ImportItem, maxMessageBytes = Infinity): AsyncGenerator<SourceMessage> {
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
  for await (const m of readMbox(item.path, maxMessageBytes)) yield { label: `${item.path}#${m.index}`, input: once(m.raw), buffer: m.raw, bytes: m.bytes };
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
