// Import (issue 11.9): the reads a mail's processing makes, sent before its staging insert, so
// that on PostgreSQL all of them share that insert's round trip instead of one each. Only where
// staging and processing are one transaction (import's unit): the answers hold until it ends,
// the sender's under its lock (identify.ts). Processing uses them when they are about the same
// thing it would have asked; otherwise it asks as usual.
import { firstWithMessageId, senderByEmail, type SenderFound } from "../store/queries/queries.js";
import type { Db } from "../store/store.js";
import { senderMailbox, withoutNul } from "./field-limits.js";
import type { ParsedMail } from "./parse.js";

export interface ReadAhead {
  /** stagedForCommit's note (issue 9.5): the first record with the Message-ID, all of them others yet. */
  messageIdReusedBy: Promise<number | null>;
  /** identifySender's lookup of the From address, under its lock (null: no address to look up). */
  sender: { email: string; found: Promise<SenderFound> } | null;
}

export async function readAhead(db: Db, parsed: ParsedMail): Promise<ReadAhead> {
  // As processing will ask (ingest.ts applyComponents): NULs out, or the read fails the staging with it.
  const email = senderMailbox(parsed);
  const messageId = withoutNul(parsed.messageId);
  let sender: ReadAhead["sender"] = null;
  if (email) {
    await db.lockKey(identifyLock(email));
    sender = { email, found: senderByEmail(db, email) };
  }
  const ahead = { messageIdReusedBy: messageId ? firstWithMessageId(db, messageId) : Promise.resolve(null), sender };
  // Awaited by processing, or never (a duplicate): a failure fails the unit through the statements after it.
  ahead.messageIdReusedBy.catch(() => {});
  sender?.found.catch(() => {});
  return ahead;
}

/** The lock that makes look-then-create one step for an address (identify.ts). */
export const identifyLock = (email: string) => `identify:${email}`;
