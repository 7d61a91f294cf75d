// issue 13: the queries of the bounce stage and of issue notes.
import type { Db } from "../store.js";
import { getAll, getOne, insertRow, updateRow } from "../sql.js";
import { issueNotes, outboundMails } from "../tables.generated.js";
import type { OutboundMail } from "./queries.js";

export type IssueNote = typeof issueNotes.$inferSelect;

export async function getOutbound(db: Db, id: number): Promise<OutboundMail | undefined> {
  return getOne(db, outboundMails, `WHERE id = ?`, id);
}

/** Our outbox rows with one of these Message-IDs (the unique index answers each). */
export async function outboundByMessageIds(db: Db, messageIds: string[]): Promise<OutboundMail[]> {
  const ids = [...new Set(messageIds)].slice(0, 20);
  if (!ids.length) return [];
  return getAll(db, outboundMails, `WHERE message_id IN (${ids.map(() => "?").join(", ")}) ORDER BY id`, ...ids);
}

export async function markOutboundBounced(db: Db, id: number, b: { status: string | null; diagnostic: string | null; at: string; stagedMailId: number }): Promise<void> {
  await updateRow(db, outboundMails, id, { status: "bounced", bounceStatus: b.status, bounceDiagnostic: b.diagnostic, bouncedAt: b.at, bounceStagedMailId: b.stagedMailId });
}

export async function insertIssueNote(db: Db, note: typeof issueNotes.$inferInsert): Promise<number> {
  return await insertRow(db, issueNotes, note);
}

export async function notesOfIssue(db: Db, issueId: number): Promise<IssueNote[]> {
  return getAll(db, issueNotes, `WHERE issue_id = ? ORDER BY id`, issueId);
}

/** The first bytes of a staged mail's raw message as kept in the database (null when spooled to a file). */
export async function rawHeadOf(db: Db, stagedId: number, maxBytes: number): Promise<{ head: Buffer | null; path: string | null }> {
  const r = (await db.get(`SELECT substr(raw, 1, ?) AS head, raw_path AS path FROM staged_mails WHERE id = ?`, [maxBytes, stagedId])) as { head: Buffer | null; path: string | null } | undefined;
  return { head: r?.head ?? null, path: r?.path ?? null };
}
