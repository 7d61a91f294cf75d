// Issue 14: writing bytes from mail out (show --raw, attachment get). Mail is hostile: raw bytes are
// never written to a terminal, where escape sequences in them would be obeyed; a file named with -o
// is not overwritten unless --force, and is created private (0600), like the mail it came from.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UsageError } from "../errors.js";

export interface OutputOptions {
  output?: string;
  force?: boolean;
}

/** The bytes (a buffer, or a stream opened only when it is written) to -o FILE, else to stdout when it is not a terminal. */
export async function writeOut(bytes: Buffer | (() => Readable), opts: OutputOptions, what: string): Promise<{ written: string; bytes: number }> {
  const source = () => (Buffer.isBuffer(bytes) ? [bytes] : bytes());
  if (opts.output !== undefined) {
    const out = createWriteStream(opts.output, { flags: opts.force ? "w" : "wx", mode: 0o600 });
    try {
      await pipeline(source(), out);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`${opts.output} exists; give --force to overwrite it`);
      throw e;
    }
    return { written: opts.output, bytes: out.bytesWritten };
  }
  if (process.stdout.isTTY) throw new UsageError(`not writing ${what} to a terminal (its bytes could drive it): give -o FILE, or pipe it (| less)`);
  let n = 0;
  for await (const chunk of source()) {
    n += (chunk as Buffer).length;
    if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
  }
  // main.ts exits right after the command: wait until the last bytes have left, not just been queued.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  return { written: "stdout", bytes: n };
}
