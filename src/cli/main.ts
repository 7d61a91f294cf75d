// The CLI entry: the only place that maps faults to exit codes (sysexits) and calls process.exit.
// The MTA's plain ingest call goes straight to the ingest command; everything else to the commander
// program, loaded only then. Commands are imported lazily so the MTA's ingest path loads nothing it
// does not use (cold start, issue 5).
import { EX, IngestMailError } from "../errors.js";
import type { IngestOptions } from "./commands/ingest.js";
import { plainIngest } from "./ingest-args.js";

// What an unexpected fault means depends on the command: for ingest it is "could not store, retry"
// (the MTA keeps the mail), never 1 (which Postfix turns into a bounce).
let unexpectedFault: number = EX.SOFTWARE;

async function runIngest(recipient: string | undefined, opts: IngestOptions): Promise<void> {
  unexpectedFault = EX.TEMPFAIL;
  await (await import("./commands/ingest.js")).run(recipient, opts);
}

export async function main(argv: string[]): Promise<number> {
  let program: typeof import("./program.js") | undefined;
  try {
    const plain = plainIngest(argv.slice(2));
    if (plain) await runIngest(plain.recipient, plain.opts);
    else await (program = await import("./program.js")).build(runIngest).parseAsync(argv);
    return process.exitCode === undefined ? EX.OK : Number(process.exitCode);
  } catch (e) {
    if (program && e instanceof program.CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EX.OK;
      return EX.USAGE;
    }
    if (e instanceof IngestMailError) {
      process.stderr.write(`ingest-mail: ${e.message}\n`);
      return e.exitCode;
    }
    const code = unexpectedFault;
    process.stderr.write(`ingest-mail: ${(e as Error)?.message ?? e}${code === EX.TEMPFAIL ? " (temporary failure: the MTA will retry)" : ""}\n`);
    if (process.env.INGEST_MAIL_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return code;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  () => process.exit(unexpectedFault),
);
