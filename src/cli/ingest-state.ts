// What the MTA's ingest call has done so far, for the CLI entry: whether a message came on stdin
// (issue 9.4: with a message every fault is 75, without one it is a usage or configuration
// error), the temporary spool file to remove and whether the mail is staged (issue 9.6: signals).
export const ingestState = {
  /** The ingest command is running (the MTA's call, or `ingest` by hand). */
  active: false,
  /** Bytes read from stdin so far. */
  bytesRead: 0,
  /** stdin was read to its end. */
  stdinEnded: false,
  tempFile: null as string | null,
  stagedId: null as number | null,
};

/** Counts what passes through, so the entry knows whether a message arrived. */
export async function* counted(input: AsyncIterable<Buffer | string>): AsyncIterable<Buffer | string> {
  for await (const chunk of input) {
    ingestState.bytesRead += chunk.length;
    yield chunk;
  }
  ingestState.stdinEnded = true;
}

/** Whether stdin holds a message: what was read already, else the first chunk still to come. */
export async function stdinHasMessage(stdin: NodeJS.ReadStream = process.stdin): Promise<boolean> {
  if (ingestState.bytesRead > 0) return true;
  if (ingestState.stdinEnded || stdin.isTTY) return false;
  try {
    for await (const chunk of stdin) if ((chunk as Buffer).length > 0) return true;
  } catch {
    return false;
  }
  return false;
}
