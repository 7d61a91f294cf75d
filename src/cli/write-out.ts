// Issue 14: writing bytes from mail out (show --raw, attachment get). Mail is hostile: raw bytes are
// never written to a terminal, where escape sequences in them would be obeyed; a file named with -o
// is not overwritten unless --force, and is created private (0600), like the mail it came from.
import { createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UsageError } from "../errors.js";
import { osUser } from "./actor.js";

export interface OutputOptions {
  output?: string;
  force?: boolean;
}

/** Why a file named with -o cannot be created, by errno. */
const CANNOT_CREATE: Record<string, string> = {
  ENOENT: "its folder does not exist",
  ENOTDIR: "a part of its path is not a folder",
  EISDIR: "it is a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENAMETOOLONG: "the name is too long",
};

/** The bytes (a buffer, or a stream opened only when it is written) to -o FILE, else to stdout when it is not a terminal. */
export async function writeOut(bytes: Buffer | (() => Readable), opts: OutputOptions, what: string): Promise<{ written: string; bytes: number }> {
  const source = () => (Buffer.isBuffer(bytes) ? [bytes] : bytes());
  if (opts.output !== undefined) {
    if (opts.output === "") throw new UsageError("-o needs a file name");
    const out = createWriteStream(opts.output, { flags: opts.force ? "w" : "wx", mode: 0o600 });
    try {
      await pipeline(source(), out);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (code === "EEXIST") throw new UsageError(`${opts.output} exists; give --force to overwrite it`);
      // The file named with -o cannot be made: the admin's path, said plainly (not a fault of ours: 70).
      if (code in CANNOT_CREATE) throw new UsageError(`cannot write ${opts.output}: ${CANNOT_CREATE[code]}${code === "EACCES" || code === "EPERM" ? ` (as ${osUser()})` : ""}`);
      throw e;
    }
    return { written: opts.output, bytes: out.bytesWritten };
  }
  if (process.stdout.isTTY) throw new UsageError(`not writing ${what} to a terminal (its bytes could drive it): give -o FILE, or pipe it (| less)`);
  let n = 0;
  // A reader that goes away (`| head -c 100`) took what it wanted: stop writing, as `list` does, not a fault (EPIPE).
  let gone: NodeJS.ErrnoException | null = null;
  const onError = (e: NodeJS.ErrnoException) => void (gone ??= e);
  process.stdout.on("error", onError);
  try {
    for await (const chunk of source()) {
      if (gone) break;
      n += (chunk as Buffer).length;
      if (!process.stdout.write(chunk)) await drained();
    }
    // main.ts exits right after the command: wait until the last bytes have left, not just been queued.
    if (!gone) await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  } catch (e) {
    gone ??= e as NodeJS.ErrnoException;
  } finally {
    process.stdout.off("error", onError);
  }
  if (gone && gone.code !== "EPIPE") throw gone;
  return { written: "stdout", bytes: n };
}

/** stdout can take more, or will take nothing more (closed, or failed: the caller's listener sees why). */
function drained(): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      for (const event of ["drain", "close", "error"]) process.stdout.off(event, done);
      resolve();
    };
    for (const event of ["drain", "close", "error"]) process.stdout.on(event, done);
  });
}
