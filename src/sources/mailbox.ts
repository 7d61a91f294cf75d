// The mailbox agent (Salesforce seed 001: "polls IMAP or POP3 every few minutes"). A Mailbox is one
// strategy per protocol with the same shape (imap.ts, pop3.ts); pollOnce() is the one cycle both run:
// fetch → ingest (the same pipeline and staging as stdin mail) → only then mark seen / move /
// delete. A crash between the two leaves the message on the server; the next cycle fetches it
// again and staging recognises it as a duplicate (domain.md §1.7), so nothing is lost or doubled.
import type { Deps } from "../pipeline/deps.js";
import { ingest } from "../pipeline/ingest.js";

export type MailboxErrorKind = "unreachable" | "refused" | "protocol";

/** A fault of the server side: unreachable (retry later), refused (credentials, missing mailbox). */
export class MailboxError extends Error {
  constructor(
    message: string,
    readonly kind: MailboxErrorKind,
  ) {
    super(message);
    this.name = "MailboxError";
  }
}

/**
 * At most this many messages are taken in one cycle (docs/delivery.md): the count comes from the
 * server, and a list of billions of entries is no plan. The rest wait on the server for the next.
 */
export const MAX_PER_CYCLE = 1000;

export interface MailboxMessage {
  /** UID (IMAP) or message number (POP3). */
  id: number;
  /** For logs: UID or UIDL. */
  label: string;
}

/**
 * fetch()'s answer for a message over limits.maxMessageBytes (its whole size as the server gave
 * it). Such a message is neither staged nor marked: it stays on the server as it was (not seen, not
 * moved, not deleted), and the cycle names it so that an admin can fetch it by hand. Staging its
 * head and deleting the rest would lose the mail (docs/delivery.md, "Too large").
 */
export class Oversize {
  constructor(readonly size: number) {}
}

export interface Mailbox {
  readonly protocol: "imap" | "pop3";
  /** Where, for logs: user@host:port/mailbox. */
  readonly where: string;
  /** Connects and logs in. When it fails, no connection stays open (the server may count them). */
  open(): Promise<void>;
  /** Messages waiting to be ingested, oldest first. */
  pending(): Promise<MailboxMessage[]>;
  /**
   * The raw message, leaving its state on the server unchanged; null if it has gone meanwhile;
   * Oversize, without reading it into memory, when it is over limits.maxMessageBytes.
   */
  fetch(m: MailboxMessage): Promise<Buffer | Oversize | null>;
  /** Called only once the message is staged: mark it seen, move it or delete it. */
  done(m: MailboxMessage): Promise<void>;
  /** Logs out, making done() final (POP3 deletes happen here). */
  close(): Promise<void>;
  /** Drops the connection; whatever done() did not finalise stays on the server. */
  abort(): void;
}

export interface CycleResult {
  fetched: number;
  counts: Record<string, number>;
  /** Messages over limits.maxMessageBytes, left on the server untouched. */
  oversize: { message: string; size: number }[];
  /** Stopped early because a stop was asked for (SIGTERM). */
  stopped: boolean;
  ms: number;
}

export interface CycleOptions {
  source: string;
  shouldStop: () => boolean;
  /**
   * Aborted on SIGTERM / SIGINT: a wait on the server then ends at once (the connection is
   * dropped), where shouldStop() alone was read only between messages.
   */
  signal?: AbortSignal;
  now?: () => number;
}

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

/** One poll cycle. Throws MailboxError for server faults and ingest's own fault when mail could not be stored. */
export async function pollOnce(deps: Deps, mailbox: Mailbox, opts: CycleOptions): Promise<CycleResult> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const result: CycleResult = { fetched: 0, counts: {}, oversize: [], stopped: false, ms: 0 };
  // A stop asked for while the cycle waits on the server (a server that drips its answer, or
  // never ends it) drops the connection there: nothing is marked that was not staged, and what a
  // POP3 session deleted is not carried out without QUIT (RFC 1939 §6), so it comes back as a
  // duplicate. A message being staged is staged and marked first (each server answer is bounded).
  let waiting = false;
  let dropped = false;
  const onStop = () => {
    if (!waiting) return;
    dropped = true;
    mailbox.abort();
  };
  const server = async <T>(fn: () => Promise<T>): Promise<T> => {
    waiting = true;
    try {
      return await fn();
    } finally {
      waiting = false;
    }
  };
  const stopped = () => {
    result.stopped = true;
    result.ms = Math.round(now() - started);
    return result;
  };
  opts.signal?.addEventListener("abort", onStop);
  try {
    try {
      await server(() => mailbox.open());
    } catch (e) {
      // open() leaves nothing open itself; this holds for any strategy. A refused or locked login
      // ([IN-USE]) in --interval mode would otherwise hold one more connection each cycle until the
      // socket timed out.
      mailbox.abort();
      if (dropped) return stopped();
      throw e;
    }
    try {
      for (const m of await server(() => mailbox.pending())) {
        if (opts.shouldStop()) {
          result.stopped = true;
          break;
        }
        const raw = await server(() => mailbox.fetch(m));
        if (!raw) continue;
        if (raw instanceof Oversize) {
          // Never marked: it stays where it is (see Oversize).
          result.oversize.push({ message: m.label, size: raw.size });
          continue;
        }
        result.fetched += 1;
        // Throws only when the mail could not be staged: it stays on the server for the next cycle.
        const outcome = await ingest(deps, once(raw), { recipient: null, sender: null }, { source: mailbox.protocol });
        result.counts[outcome.status] = (result.counts[outcome.status] ?? 0) + 1;
        await server(() => mailbox.done(m));
      }
    } catch (e) {
      if (dropped) return stopped();
      if (e instanceof MailboxError) {
        mailbox.abort();
        throw e;
      }
      // Staging failed: log out properly so what was staged before is marked (POP3: deleted).
      await mailbox.close().catch(() => mailbox.abort());
      throw e;
    }
    try {
      await server(() => mailbox.close());
    } catch (e) {
      if (dropped) return stopped();
      throw e;
    }
  } finally {
    opts.signal?.removeEventListener("abort", onStop);
  }
  result.ms = Math.round(now() - started);
  return result;
}
