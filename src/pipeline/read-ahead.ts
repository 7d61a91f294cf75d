// Import (issue 11.9): the reads a mail's processing makes, sent before its staging insert, so
// that on PostgreSQL all of them share that insert's round trip instead of one each. Only where
// staging and processing are one transaction (import's unit): the answers hold until it ends,
// the sender's under its lock (identify.ts). Processing uses them when they are about the same
// thing it would have asked; otherwise it asks as usual.
//
// Sent early (readEarly): one mail ahead, while the mail before it is processed, so that neither
// the server nor import waits for the other (docs/store.md). Those reads run before the mail
// before it writes anything: `stillHolds` says whether that mail could have changed their answers.
import { findStagedByDedupKey, firstWithMessageId, senderByEmail, type SenderFound } from "../store/queries/queries.js";
import type { Db } from "../store/store.js";
import { senderMailbox, withoutNul } from "./field-limits.js";
import type { ParsedMail } from "./parse.js";
import type { RawMessage } from "./read-raw.js";
import { redeliveryKey } from "./redelivery-key.js";

export interface ReadAhead {
  /** stagedForCommit's note (issue 9.5): the first record with the Message-ID, all of them others yet. */
  messageIdReusedBy: Promise<number | null>;
  /** identifySender's lookup of the From address, under its lock (null: no address to look up). */
  sender: { email: string; found: Promise<SenderFound> } | null;
  /** Sent early: whether a record holds the message's dedup key (then it is staged the usual way). */
  dedupTaken?: Promise<boolean>;
}

/** What a mail's reads ask about, and what its processing may write about. */
export interface AheadKeys {
  email: string | null;
  messageId: string | null;
  dedupKey: string;
}

export async function readAhead(db: Db, parsed: ParsedMail): Promise<ReadAhead> {
  const { ahead, locked } = asked(db, parsed);
  await locked;
  return ahead;
}

/**
 * The reads of an import's next message (parsed, its bytes in memory), sent now through Db.early,
 * outside the unit of the mail processed meanwhile; null where the store does not read early.
 */
export function readEarly(db: Db, raw: RawMessage, parsed: ParsedMail): ReadAhead | null {
  if (!db.early) return null;
  return db.early((early) => {
    const { ahead, locked } = asked(early, parsed);
    // A lock that fails fails the statements after it, which the mail awaits.
    locked.catch(() => {});
    const taken = findStagedByDedupKey(early, aheadKeys(raw, parsed).dedupKey).then((r) => r !== undefined);
    taken.catch(() => {});
    return { ...ahead, dedupTaken: taken };
  });
}

/** The keys of a mail (import: no envelope recipient) whose reads or writes another's may meet. */
export function aheadKeys(raw: RawMessage, parsed: ParsedMail): AheadKeys {
  return { email: senderMailbox(parsed), messageId: withoutNul(parsed.messageId), dedupKey: redeliveryKey(raw.contentKey, null) };
}

/**
 * Reads sent before the mail `before` was staged and processed still hold for `mine` when that mail
 * shares none of their keys: its processing creates an identification only for its own sender, and
 * its record holds only its own Message-ID and dedup key. `before` unknown (not parsed): they may not.
 */
export function stillHolds(mine: AheadKeys, before: AheadKeys | null): boolean {
  if (!before) return false;
  const same = (a: string | null, b: string | null) => a !== null && a === b;
  return !same(mine.email, before.email) && !same(mine.messageId, before.messageId) && mine.dedupKey !== before.dedupKey;
}

/** The lock that makes look-then-create one step for an address (identify.ts). */
export const identifyLock = (email: string) => `identify:${email}`;

/** The reads asked, in order: the lock (taken before the statements after it run), then the reads. */
function asked(db: Db, parsed: ParsedMail): { ahead: ReadAhead; locked: Promise<void> } {
  // As processing will ask (ingest.ts applyComponents): NULs out, or the read fails the staging with it.
  const email = senderMailbox(parsed);
  const messageId = withoutNul(parsed.messageId);
  let sender: ReadAhead["sender"] = null;
  let locked = Promise.resolve();
  if (email) {
    locked = db.lockKey(identifyLock(email));
    sender = { email, found: senderByEmail(db, email) };
  }
  const ahead = { messageIdReusedBy: messageId ? firstWithMessageId(db, messageId) : Promise.resolve(null), sender };
  // Awaited by processing, or never (a duplicate): a failure fails the unit through the statements after it.
  ahead.messageIdReusedBy.catch(() => {});
  sender?.found.catch(() => {});
  return { ahead, locked };
}
