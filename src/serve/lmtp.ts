// The LMTP listener (RFC 2033) on nodemailer's smtp-server with `lmtp: true`: the library speaks the
// protocol (LHLO, PIPELINING, the dot-stuffing, one reply per recipient after DATA); this file
// decides what each reply is:
// - 250 2.0.0 for a recipient once its own staged record has committed durably (group commit);
// - 451 4.3.0 for a recipient whose copy could not be stored (the MTA keeps it and retries);
// - 552 5.3.4 for a message over SIZE, and for nothing else (the library, rejectOversized);
// - 421 to new sessions while shutting down, 421 past the connection limit (maxClients), 451 4.3.2
//   to a new transaction while too many bytes are in flight.
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { RawMessage } from "../pipeline/read-raw.js";
import { coalesceReplies } from "./coalesce-replies.js";
import type { GroupCommit } from "./group-commit.js";
import { safe } from "./log.js";
import type { Delivery, RecipientResult } from "./stage-adapter.js";

export interface LmtpLimits {
  /** SIZE, announced and enforced: limits.maxMessageBytes. */
  maxMessageBytes: number;
  maxConnections: number;
  /** DATA bytes received and not yet staged, all sessions together. */
  maxBytesInFlight: number;
}

export interface LmtpHooks {
  /** Reads the message (spooled past the inline limit); throws when it cannot (client gone). */
  read(chunks: AsyncIterable<Buffer>): Promise<RawMessage>;
  discard(raw: RawMessage): void;
  stager: GroupCommit<Delivery, RecipientResult[]>;
  /** After the replies: the staged records go to processing. */
  staged(results: RecipientResult[]): void;
  log(line: string): void;
}

export interface LmtpState {
  draining: boolean;
  bytesInFlight: number;
  transactions: number;
  sessions: number;
  delivered: number;
  refused: number;
}

/** An error carrying an SMTP reply: smtp-server sends `responseCode` + enhanced code + message. */
function reply(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

class Oversized extends Error {}

const MAX_RECIPIENTS = 100;

export function createLmtpServer(limits: LmtpLimits, hooks: LmtpHooks, state: LmtpState): SMTPServer {
  const server: SMTPServer = new SMTPServer({
    lmtp: true,
    name: undefined,
    banner: "ingest-mail",
    size: limits.maxMessageBytes,
    rejectOversized: true,
    maxClients: limits.maxConnections,
    // RFC 2034 / 3463: every reply but the greeting and LHLO carries its enhanced status code.
    hideENHANCEDSTATUSCODES: false,
    disabledCommands: ["AUTH", "STARTTLS"],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    // An MTA waits minutes for the replies after DATA (RFC 5321 §4.5.3.2); ours come within one
    // group commit, so the library's default idle timeout is kept.
    onConnect(session, callback) {
      if (state.draining) return callback(reply(421, "shutting down, try again later"));
      state.sessions++;
      seen.set(session.id, 0);
      hooks.log(`session open id=${session.id} from=${safe(session.remoteAddress || "local")}`);
      callback();
    },
    onClose(session) {
      const transactions = seen.get(session.id);
      if (transactions === undefined) return;
      seen.delete(session.id);
      state.sessions--;
      hooks.log(`session close id=${session.id} transactions=${transactions}`);
    },
    onMailFrom(_address, session, callback) {
      if (state.draining) return callback(reply(421, "shutting down, try again later"));
      if (state.bytesInFlight > limits.maxBytesInFlight) {
        state.refused++;
        return callback(reply(451, `too much mail in flight (${state.bytesInFlight} bytes), try again later`));
      }
      callback();
    },
    onRcptTo(_address, session, callback) {
      // RFC 5321 §4.5.3.1.10: 452 asks the client to send the other recipients in a later
      // transaction; each recipient is a staged record, so one transaction stays bounded.
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return callback(reply(452, `too many recipients in one transaction (at most ${MAX_RECIPIENTS})`));
      callback();
    },
    onData(stream, session, callback) {
      void receive(stream, session).then(
        // LMTP: one entry per recipient (a string is a 250, an Error carries its own code).
        (replies) => callback(null, replies),
        (e) => callback(e as Error),
      );
    },
  });
  coalesceReplies(server.server);
  // Open sessions and their number of DATA transactions, for the session log line.
  const seen = new Map<string, number>();

  /** Reads the message, stages one record per recipient, returns one reply per recipient. */
  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<(string | Error)[]> {
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
    state.transactions++;
    seen.set(session.id, (seen.get(session.id) ?? 0) + 1);
    let held = 0;
    const hold = (n: number) => {
      held += n;
      state.bytesInFlight += n;
    };
    try {
      let raw: RawMessage;
      try {
        raw = await hooks.read(chunksOf(stream, limits.maxMessageBytes, hold));
      } catch (e) {
        if (e instanceof Oversized) {
          // smtp-server answers 552 5.3.4 for every recipient (rejectOversized) whatever we say.
          hooks.log(`delivery session=${session.id} refused: larger than SIZE ${limits.maxMessageBytes}`);
          return recipients.map(() => reply(552, "message exceeds fixed maximum message size"));
        }
        if (stream.destroyed || (e as { code?: string }).code === "ECONNECTION") {
          hooks.log(`delivery session=${session.id} dropped mid-DATA after ${held} bytes: nothing staged`);
          throw e;
        }
        hooks.log(`delivery session=${session.id} not stored: ${safe((e as Error).message)}`);
        return recipients.map(() => reply(451, `could not store the message (${safe((e as Error).message)}), try again later`));
      }
      let results: RecipientResult[];
      try {
        results = await hooks.stager.stage({ raw, sender, recipients });
      } catch (e) {
        hooks.discard(raw);
        results = recipients.map(() => ({ kind: "failed" as const, error: e as Error }));
      }
      const replies = results.map((r, i) => {
        const rcpt = safe(recipients[i]);
        if (r.kind === "failed") {
          hooks.log(`delivery session=${session.id} rcpt=${rcpt} not stored: ${safe(r.error.message)}`);
          return reply(451, `<${rcpt}> could not store the message, try again later`);
        }
        state.delivered++;
        hooks.log(`delivery session=${session.id} rcpt=${rcpt} from=${safe(sender ?? "")} staged=${r.stagedId} ${r.kind === "staged" ? "status=new" : r.kind === "duplicate" ? `status=duplicate of=${r.duplicateOf}` : `status=${r.kind}`} bytes=${held}`);
        // An Error with code 250: smtp-server sends it as "250 2.0.0 ..." (its plain-string form
        // would say 2.6.0); RFC 2033's own examples answer 2.0.0 per recipient.
        return reply(250, `<${rcpt}> staged as ${r.stagedId}`);
      });
      hooks.staged(results);
      return replies;
    } finally {
      state.transactions--;
      state.bytesInFlight -= held;
    }
  }

  return server;
}

/**
 * The DATA stream as chunks, without ever destroying it: smtp-server sends the replies only once
 * the stream has ended, so a reader that stops early (size exceeded) leaves it draining into the
 * void. A client that disconnects mid-DATA makes the iteration throw.
 */
async function* chunksOf(stream: SMTPServerDataStream, maxBytes: number, hold: (n: number) => void): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (c: Buffer) => {
    queue.push(c);
    hold(c.length);
    // Backpressure: the socket stops being read while the parser and disk catch up.
    if (queue.length > 16) stream.pause();
    poke();
  };
  const onEnd = () => {
    ended = true;
    poke();
  };
  const onError = (e: Error) => {
    failure = e;
    poke();
  };
  const onClose = () => {
    if (!ended) failure ??= Object.assign(new Error("the client went away in the middle of the message"), { code: "ECONNECTION" });
    poke();
  };
  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
  try {
    for (;;) {
      if (stream.sizeExceeded || (stream.byteLength ?? 0) > maxBytes) throw new Oversized("over SIZE");
      const c = queue.shift();
      if (c) {
        if (queue.length <= 4) stream.resume();
        yield c;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    stream.off("data", onData);
    stream.off("end", onEnd);
    stream.off("close", onClose);
    // Keep an error listener: an 'error' without one would crash the process.
    if (!ended && !stream.destroyed) stream.resume();
  }
}
