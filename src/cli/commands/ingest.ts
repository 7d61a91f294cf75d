// `ingest-mail [ingest]`: the MTA's entry. One message on stdin → staged → processed.
import { resolve } from "node:path";
import { DatabaseRefusedError, isStorageFault, TempFailError, UsageError } from "../../errors.js";
import { fileLogger, systemClock, type Deps } from "../../pipeline/deps.js";
import { ingestRaw, readSettings } from "../../pipeline/ingest.js";
import type { Outcome } from "../../pipeline/outcome.js";
import { readRaw } from "../../pipeline/read-raw.js";
import { isDatabaseUrl } from "../../store/open.js";
import { databaseTarget, deniedTo, loadCommonConfig, makeDeps, type CommonOptions } from "../context.js";
import { counted, ingestState } from "../ingest-state.js";
import { stdinChunks, stdinIsTerminal, writeStdout } from "../mta-io.js";
import { safe } from "../../terminal-safe.js";

export interface IngestOptions extends CommonOptions {
  recipient?: string;
  sender?: string;
}

/** No message on stdin (a terminal, or nothing): a usage error, 64 (issue 9.4). */
export class NoMessageError extends UsageError {}

export async function run(recipientArg: string | undefined, opts: IngestOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  ingestState.active = true;
  // A word that is no address where the recipient goes is a mistyped command (`ingest-mail lsit`),
  // not a recipient: with a message on stdin the entry turns this into 75, without one into 64.
  if (recipientArg && !recipientArg.includes("@")) throw new UsageError(`unknown command "${recipientArg}" (see ingest-mail --help)`);
  if (recipientArg && opts.recipient && recipientArg !== opts.recipient) throw new UsageError(`two different recipients given: "${recipientArg}" and --recipient "${opts.recipient}"`);
  if (await stdinIsTerminal()) throw new NoMessageError("no message on stdin (pipe the raw RFC822 mail in: ingest-mail < message.eml)");
  const recipient = opts.recipient || recipientArg || env.ORIGINAL_RECIPIENT || env.RECIPIENT || null;
  let deps: Deps | undefined;
  // The database as a person reads it, for the message when it cannot store (known once configured).
  let location: string | null = null;
  let log: (line: string) => void = () => {};
  let outcome: Outcome;
  try {
    const config = loadCommonConfig(opts, env);
    const target = databaseTarget(opts, config, env);
    location = isDatabaseUrl(target) ? null : resolve(target);
    log = fileLogger(config.logFile, systemClock);
    deps = await makeDeps(opts, env, config, { create: true });
    location = deps.store.location;
    const raw = await readRaw(counted(stdinChunks()), { ...readSettings(deps, { durable: true }), onTempFile: (p) => void (ingestState.tempFile = p) });
    if (raw.size === 0) throw new NoMessageError("no message on stdin (it was empty)");
    outcome = await ingestRaw(deps, raw, { recipient, sender: opts.sender ?? null }, { source: "stdin", onStaged: (id) => void (ingestState.stagedId = id) });
  } catch (e) {
    const fault = storageFault(e, location);
    // Issue 9.9: what kept a mail from being stored is seen in the log (stderr gets it from the entry).
    if (fault !== e || e instanceof DatabaseRefusedError) log(`not stored: ${(fault as Error).message}`);
    throw fault;
  } finally {
    await deps?.store.close({ keepWal: true });
  }
  // The summary and the line below carry text from the mail (a reason, an address): an MTA logs
  // them and a tester reads them on a terminal, so controls and newlines are shown as escapes.
  writeStdout(opts.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${safe(summary(outcome))}\n`);
  // Issue 9.9: every invalid / error status leaves one line where an admin looks (the log when
  // configured; MTAs log stderr otherwise).
  if ((outcome.status === "invalid" || outcome.status === "error") && !deps?.config.logFile) process.stderr.write(`ingest-mail: staged ${outcome.stagedId}: ${outcome.status}: ${safe(outcome.reason ?? outcome.error)}\n`);
}

export function summary(o: Outcome): string {
  const head = `staged ${o.stagedId}: ${o.status}`;
  if (o.status === "duplicate") return `${head} (redelivery of staged mail ${o.duplicateOf}; nothing new recorded)`;
  if (o.status === "invalid" || o.status === "held" || o.status === "bounce") return `${head} (${o.reason})`;
  if (o.status === "error") return `${head} (${o.error}); fix and run: ingest-mail resubmit ${o.stagedId}`;
  if (o.status === "new") return `${head} (${o.reason ?? o.error ?? "not processed yet"}; ingest-mail recover finishes it)`;
  const issues = o.issues.map((i) => `${i.created ? "new" : i.reopened ? "reopened" : "appended to"} ${i.reference}${i.matchedBy ? ` by ${i.matchedBy}` : ""} [${i.state}]`);
  const failedSends = o.outbound.filter((s) => s.status === "failed");
  // Issue 9.8: a failed confirmation is said, with how to send it again.
  const sendNote = failedSends.length ? `; ${failedSends.map((s) => `${s.kind} to ${s.to} failed (${s.error}); retry: ingest-mail outbox retry`).join("; ")}` : "";
  return `${head}; ${issues.join(", ")}${o.autoGenerated ? " (auto-generated)" : ""}${sendNote}`;
}

/**
 * domain.md §8: a storage fault means "not stored, retry" (75); say which store refused and why. A
 * StorageFault's message names its database (issue 11.3: each engine says which, never with a
 * password); SQLite's ends with it, and it goes after the code, as the MTA's log has always read it.
 */
function storageFault(e: unknown, location: string | null): unknown {
  if (!isStorageFault(e)) return e;
  const { code, message } = e as { code: string; message: string };
  const where = location === null ? "" : ` (database ${location})`;
  const what = where && message.endsWith(where) ? message.slice(0, -where.length) : message;
  // SQLite says only "unable to open database file" or "readonly database": the usual cause is an
  // MTA delivering as a user other than the database's owner, so the line says which user.
  const user = location !== null && /^SQLITE_(CANTOPEN|READONLY)/.test(code) ? deniedTo(location) : null;
  const denied = user ? `${user} may not write the database or its folder (the delivery must run as the database's owner): ` : "";
  return new TempFailError(`could not store the message: ${denied}${what} [${code}]${what === message ? "" : where}; the MTA will retry`);
}
