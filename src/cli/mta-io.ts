// The MTA's ingest call reads its message from file descriptor 0 and writes its summary to
// descriptor 1 with the fs functions, rather than through process.stdin and process.stdout:
// creating either stream for a pipe (what an MTA gives) loads net and the socket machinery, a few
// ms of a cold ingest of about 70 ms (cold-start bench, issue 9).
//
// A pipe is read through a descriptor of its own opened non-blocking (/proc/self/fd/0), waiting a
// moment when it is empty: a blocking read, on the main thread or libuv's thread pool, would keep
// SIGTERM's exit (issue 9.6) waiting until the writer sends more or closes. Anything else (a socket,
// no /proc) goes through process.stdin as before.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";

const CHUNK = 64 * 1024;

/** Whether stdin is a terminal (a person, not a message). Only a character device can be one. */
export async function stdinIsTerminal(): Promise<boolean> {
  try {
    if (!fstatSync(0).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  // /dev/null is a character device too; tty (which loads net) only for those.
  const { isatty } = await import("node:tty");
  return isatty(0);
}

/** A descriptor to read stdin from without blocking: 0 itself for a file, a non-blocking one of its own for a pipe. */
function readableStdin(): number | null {
  try {
    const st = fstatSync(0);
    if (st.isFile()) return 0;
    if (st.isFIFO()) return openSync("/proc/self/fd/0", constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    // No /proc, or a descriptor that cannot be opened again: process.stdin.
  }
  return null;
}

/** Lets the event loop run (signals, timers) while an empty pipe waits for its writer: at once first, then up to 10 ms. */
const pause = (tries: number) => new Promise((resolve) => (tries === 0 ? setImmediate(resolve) : setTimeout(resolve, Math.min(tries, 10))));

/** The bytes on stdin, as they come. */
export async function* stdinChunks(): AsyncIterable<Buffer> {
  const fd = readableStdin();
  if (fd === null) {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  try {
    for (let empty = 0; ; ) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        await pause(empty++);
        continue;
      }
      empty = 0;
      if (n === 0) return;
      yield n === CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** Something went to process.stdout (see writeStdout): the entry waits for it before exiting. */
let streamed = false;

export function stdoutStreamUsed(): boolean {
  return streamed;
}

/**
 * Writes text to stdout at once. A descriptor some parent left non-blocking may take part of it
 * (EAGAIN): the rest goes through process.stdout, which waits for the reader. A reader that went
 * away (EPIPE) or no stdout at all loses the summary, never the exit code: the mail is staged, and
 * the MTA must hear 0 (domain.md §8), as it did when process.stdout reported the error.
 */
export function writeStdout(text: string): void {
  let bytes = Buffer.from(text);
  while (bytes.length) {
    try {
      bytes = bytes.subarray(writeSync(1, bytes));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return;
      streamed = true;
      process.stdout.once("error", () => {});
      process.stdout.write(bytes);
      return;
    }
  }
}
