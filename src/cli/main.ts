// The CLI entry: the only place that maps faults to exit codes (sysexits) and calls process.exit.
// The MTA's plain ingest call goes straight to the ingest command; everything else to the commander
// program, loaded only then. Commands are imported lazily so the MTA's ingest path loads nothing it
// does not use (cold start, issue 5).
import { rmSync } from "node:fs";
import { EX, IngestMailError } from "../errors.js";
import type { IngestOptions } from "./commands/ingest.js";
import { plainIngest } from "./ingest-args.js";
import { ingestState, stdinHasMessage } from "./ingest-state.js";
import { stdoutStreamUsed } from "./mta-io.js";
import { safe } from "../terminal-safe.js";

async function runIngest(recipient: string | undefined, opts: IngestOptions): Promise<void> {
  ingestState.active = true;
  onSignals();
  await (await import("./commands/ingest.js")).run(recipient, opts);
}

/** An error of the ingest command itself (its arguments included), or of any other command. */
const INGEST_FAULT = Symbol("ingest");

export async function main(argv: string[]): Promise<number> {
  let program: typeof import("./program.js") | undefined;
  try {
    const plain = plainIngest(argv.slice(2));
    if (plain) await runIngest(plain.recipient, plain.opts);
    else await (program = await import("./program.js")).build(runIngest, (e) => Object.assign(e, { [INGEST_FAULT]: true })).parseAsync(argv);
    return process.exitCode === undefined ? EX.OK : Number(process.exitCode);
  } catch (e) {
    let code: number;
    let message: string;
    if (program && e instanceof program.CommanderError) {
      // `ingest-mail issue` with no subcommand shows the help on stderr and exits 1 in commander's
      // terms: a script's step that did nothing must not pass (64); --help itself is 0.
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || (e.code === "commander.help" && e.exitCode === 0)) return EX.OK;
      code = EX.USAGE;
      // commander prints nothing (program.ts): its message becomes our one line, with where the usage is.
      message = e.code === "commander.help" ? "" : `${e.message.replace(/^error: /, "")} (--help shows the usage)`;
    } else if (e instanceof IngestMailError) {
      code = e.exitCode;
      message = e.message;
    } else {
      code = ingestState.active ? EX.TEMPFAIL : EX.SOFTWARE;
      message = String((e as Error)?.message ?? e);
      if (process.env.INGEST_MAIL_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    }
    // domain.md §8, issue 9.4: with a message on stdin the ingest command exits 0 (staged) or 75
    // (not staged), whatever went wrong: Postfix bounces every other code back to the customer.
    const ingestCall = ingestState.active || (e as Record<symbol, unknown>)?.[INGEST_FAULT] === true;
    let turned = false;
    if (ingestCall && code !== EX.OK && code !== EX.TEMPFAIL && (await stdinHasMessage())) {
      code = EX.TEMPFAIL;
      turned = true;
    }
    // One line, whatever the message quotes (an argument, a path, text from a mail): controls and
    // newlines are shown as escapes, so nothing drives the terminal or forges a line in the MTA's log.
    if (message) process.stderr.write(`ingest-mail: ${safe(message)}${turned ? retryNote() : ""}\n`);
    return code;
  }
}

function retryNote(): string {
  return ingestState.stagedId === null ? " (not stored: the MTA keeps the mail and retries)" : "";
}

/**
 * Issue 9.6: SIGTERM (an MTA's time limit) or SIGINT stops the ingest with 75, so the MTA delivers
 * again: a mail not yet staged is staged then; a staged one is still `new`, and the redelivery
 * finishes it. The temporary spool file goes; the database rolls back what was not committed.
 */
function onSignals(): void {
  const stop = (signal: NodeJS.Signals) => {
    if (ingestState.tempFile) rmSync(ingestState.tempFile, { force: true });
    const what = ingestState.stagedId === null ? "before the mail was staged" : `with the mail staged as ${ingestState.stagedId} but not processed (the MTA's retry finishes it)`;
    process.stderr.write(`ingest-mail: stopped by ${signal} ${what}\n`);
    process.exit(EX.TEMPFAIL);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

// process.exit does not wait for stdout: a large --json answer to a pipe would be cut off. An empty
// write's callback runs once everything written before it is flushed.
// A reader that went away (EPIPE) must not turn the exit code into 1.
const exitAfterOutput = (code: number) => {
  process.stdout.once("error", () => process.exit(code));
  process.stdout.write("", () => process.exit(code));
};

main(process.argv).then(
  // The ingest command wrote its summary straight to the descriptor (mta-io.ts): nothing to wait
  // for, and no stdout stream to create just to wait on it.
  (code) => (ingestState.active && !stdoutStreamUsed() ? process.exit(code) : exitAfterOutput(code)),
  () => process.exit(ingestState.active ? EX.TEMPFAIL : EX.SOFTWARE),
);
