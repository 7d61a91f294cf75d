// `ingest-mail poll imap|pop3`: the mailbox agent (Salesforce seed 001). Each cycle logs in, ingests
// every waiting message through the same pipeline as stdin mail and marks it (seen / moved /
// deleted) only once it is staged; see src/sources/mailbox.ts.
// Faults: bad credentials or a missing mailbox → 78 at once (they do not mend themselves). An
// unreachable server or a database that cannot store → 75 with --once; in --interval mode the
// cycle is logged as failed and the next one tries again. SIGTERM / SIGINT stop between messages.
import { readFileSync } from "node:fs";
import { ConfigError, isStorageFault, TempFailError, UsageError } from "../../errors.js";
import { purgeOnSchedule, retentionSchedule } from "../../maintenance/retention-schedule.js";
import type { Deps } from "../../pipeline/deps.js";
import { ImapMailbox } from "../../sources/imap.js";
import { MailboxError, pollOnce, type CycleResult, type Mailbox } from "../../sources/mailbox.js";
import { Pop3Mailbox } from "../../sources/pop3.js";
import { safe } from "../../terminal-safe.js";
import { makeDeps, type CommonOptions } from "../context.js";

export interface PollOptions extends CommonOptions {
  host: string;
  port: number;
  user: string;
  passwordFile?: string;
  tls?: boolean;
  mailbox: string;
  once?: boolean;
  interval: number;
  moveTo?: string;
  insecurePlaintext?: boolean;
}

// A day: a longer wait is a job for a timer running --once. (Node's timers stop at 2^31-1 ms, about
// 24.8 days, and fire at once past it: the agent then polled the server every few milliseconds.)
export const MAX_INTERVAL = 86_400;

export async function run(protocol: string, opts: PollOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (protocol === "pop3" && opts.moveTo) throw new UsageError("--move-to is for IMAP; POP3 mail is deleted once staged");
  if (protocol === "pop3" && opts.mailbox !== "INBOX") throw new UsageError("--mailbox is for IMAP; POP3 has one mailbox");
  // Port 0 connected to the protocol's default port; above 65535 Node refused it at connect time
  // (70, or 75 that systemd restarts forever): neither is what was asked.
  if (opts.port < 1 || opts.port > 65_535) throw new UsageError(`--port must be between 1 and 65535, got ${opts.port}`);
  if (!opts.once && opts.interval < 1) throw new UsageError("--interval must be at least 1 second");
  if (!opts.once && opts.interval > MAX_INTERVAL) throw new UsageError(`--interval must be at most ${MAX_INTERVAL} seconds (a day), got ${opts.interval}; for longer, run --once from a timer`);
  ignoreClosedOutput();
  const password = readPassword(opts.passwordFile, env);
  const deps = await makeDeps(opts, env, undefined, { create: true });
  const mailbox = (): Mailbox =>
    protocol === "imap"
      ? new ImapMailbox({ host: opts.host, port: opts.port, user: opts.user, password, tls: opts.tls, mailbox: opts.mailbox, moveTo: opts.moveTo ?? null, insecurePlaintext: opts.insecurePlaintext, maxMessageBytes: deps.config.limits.maxMessageBytes })
      : new Pop3Mailbox({ host: opts.host, port: opts.port, user: opts.user, password, tls: opts.tls, insecurePlaintext: opts.insecurePlaintext, maxMessageBytes: deps.config.limits.maxMessageBytes });

  const stopper = stopOnSignals();
  const retention = retentionSchedule(() => deps);
  try {
    for (;;) {
      const box = mailbox();
      try {
        const result = await pollOnce(deps, box, { source: protocol, shouldStop: stopper.stopping, signal: stopper.signalled });
        report(deps, opts, protocol, box.where, result);
      } catch (e) {
        const fault = asFault(e);
        if (opts.json) process.stdout.write(`${JSON.stringify({ protocol, mailbox: box.where, ok: false, error: fault.message })}\n`);
        const line = `poll ${protocol} ${box.where}: ${fault.message}`;
        if (opts.once || fault instanceof ConfigError) {
          deps.log(line); // main.ts puts the same on stderr with the exit code
          throw fault;
        }
        say(deps, `${line} (next try in ${opts.interval} s)`);
      }
      if (opts.once || stopper.stopping()) break;
      await purgeOnSchedule(retention, (line) => say(deps, line)); // issue 14: once a day
      await stopper.sleep(opts.interval * 1000);
      if (stopper.stopping()) break;
    }
    if (stopper.stopping()) say(deps, `poll ${protocol}: stopped by ${stopper.signal()}`);
  } finally {
    stopper.dispose();
    await deps.store.close();
  }
}

function readPassword(file: string | undefined, env: NodeJS.ProcessEnv): string {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read --password-file ${file}: ${(e as Error).message}`);
    }
    // The first line, so that a file written by `echo` works.
    return text.split(/\r?\n/)[0];
  }
  if (env.INGEST_MAIL_PASSWORD) return env.INGEST_MAIL_PASSWORD;
  throw new UsageError("no password: give --password-file FILE or set INGEST_MAIL_PASSWORD");
}

/** The exit-code class of a cycle's fault (main.ts maps it). */
function asFault(e: unknown): Error {
  if (e instanceof MailboxError) return e.kind === "refused" ? new ConfigError(e.message) : new TempFailError(e.message);
  if (isStorageFault(e)) return new TempFailError(`could not store mail, left on the server: ${(e as Error).message}`);
  return e as Error;
}

function report(deps: Deps, opts: PollOptions, protocol: string, where: string, r: CycleResult): void {
  const per = Object.entries(r.counts)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  // One line per message left on the server for its size, each cycle while it stays: an admin
  // fetches it by hand (docs/delivery.md, "Too large").
  for (const o of r.oversize) {
    say(deps, `poll ${protocol} ${where}: message ${o.message} is ${o.size} bytes, over limits.maxMessageBytes (${deps.config.limits.maxMessageBytes}): left on the server, not staged`);
  }
  say(deps, `poll ${protocol} ${where}: ${r.fetched} ${r.fetched === 1 ? "message" : "messages"} staged${per ? ` (${per})` : ""} in ${r.ms} ms${r.stopped ? "; stopping" : ""}`);
  if (opts.json) process.stdout.write(`${JSON.stringify({ protocol, mailbox: where, ok: true, ...r })}\n`);
}

/**
 * A reader of stderr or stdout that went away (`poll … 2>&1 | head -1`, a log collector restarting)
 * makes the next write fail with EPIPE, which Node raised as an uncaught error: exit 1, and no more
 * mail fetched. The line is dropped instead (the log file still has it) and the agent polls on:
 * fetching mail is its job, the lines only report it.
 */
function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
}

/**
 * One line per cycle to the log file (when configured) and to stderr. The line quotes the server
 * (a login refusal's reason): its controls (ESC, OSC, BEL, CR, LF) are shown as escapes, as main.ts
 * does for --once (issue 10), so that no server drives the terminal or forges a journal line.
 */
function say(deps: Deps, line: string): void {
  deps.log(line); // fileLogger escapes on its own
  process.stderr.write(`ingest-mail: ${safe(line)}\n`);
}

interface Stopper {
  stopping(): boolean;
  /** Aborted by the first signal: the cycle drops a connection it is waiting on (mailbox.ts). */
  signalled: AbortSignal;
  signal(): string | null;
  sleep(ms: number): Promise<void>;
  dispose(): void;
}

// SIGTERM / SIGINT set a flag that the cycle reads between messages, and cut a sleep short, so the
// message in hand is staged and marked before the agent exits (exit 0); a wait on the server is
// cut short too (the signal below): a server dripping its answer held the agent past SIGTERM.
function stopOnSignals(): Stopper {
  let got: string | null = null;
  let wake: (() => void) | null = null;
  const controller = new AbortController();
  const on = (sig: NodeJS.Signals) => () => {
    got = sig;
    controller.abort();
    // A second signal gets the default action (exit at once); still safe, as nothing is marked
    // before it is staged.
    off();
    wake?.();
  };
  const handlers = { SIGTERM: on("SIGTERM"), SIGINT: on("SIGINT") };
  const off = () => {
    for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
  };
  for (const [sig, h] of Object.entries(handlers)) process.on(sig, h);
  return {
    stopping: () => got !== null,
    signalled: controller.signal,
    signal: () => got,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          wake = null;
          resolve();
        }
        wake = done;
      }),
    dispose: off,
  };
}
