// Every database access of the product, as named functions. A second engine (PostgreSQL) is a
// second implementation of these, not a rewrite of the callers.
import type { Db } from "./open.js";
import { accounts, actions, attachments, interactions, issues, outboundMails, stagedMailStatusHistory, stagedMails, userIdentifications, users } from "./tables.generated.js";
import { recordIssueDiff } from "./history-queries.js";
import { getAll, getOne, insertReturning, insertRow, insertRows, stmt, updateReturning, updateRow } from "./sql.js";

/** A staged record as the pipeline reads it: everything but the raw bytes, which stay where they are. */
export type StagedMail = Omit<typeof stagedMails.$inferSelect, "raw">;
export type NewStagedMail = typeof stagedMails.$inferInsert;
export type Issue = typeof issues.$inferSelect;
export type NewIssue = typeof issues.$inferInsert;
export type UserIdentification = typeof userIdentifications.$inferSelect;
export type User = typeof users.$inferSelect;
export type Account = typeof accounts.$inferSelect;
export type Attachment = typeof attachments.$inferSelect;
export type NewAttachment = typeof attachments.$inferInsert;
export type OutboundMail = typeof outboundMails.$inferSelect;
export type StatusChange = typeof stagedMailStatusHistory.$inferSelect;

/** Runs fn in a write transaction taken up front (BEGIN IMMEDIATE) so readers never upgrade and deadlock. */
export function inWriteTx<T>(db: Db, fn: () => T): T {
  return db.$client.transaction(fn).immediate();
}

/**
 * A write transaction whose commit is on disk before it returns (synchronous=FULL) when `durable`.
 * Only staging needs that (the MTA is told "delivered" on the strength of it); everything after it
 * commits with NORMAL and, after a power loss, is redone by `recover` from the staged record.
 */
export function inDurableWriteTx<T>(db: Db, durable: boolean, fn: () => T): T {
  if (!durable) return inWriteTx(db, fn);
  db.$client.pragma("synchronous = FULL");
  try {
    return inWriteTx(db, fn);
  } finally {
    db.$client.pragma("synchronous = NORMAL");
  }
}

// ---- staged mail ----

/** The id of the staged mail holding this dedup key, if any. */
export function findStagedByDedupKey(db: Db, key: string): { id: number } | undefined {
  return stmt(db, `SELECT id FROM staged_mails WHERE dedup_key = ?`).get(key) as { id: number } | undefined;
}

/** Inserts the staged row with its first history entry; the unique dedup key makes a concurrent
 * redelivery fail here rather than be processed twice. */
export function insertStaged(db: Db, row: NewStagedMail, note?: string): StagedMail {
  const staged = insertReturning<StagedMail>(db, stagedMails, row);
  insertRow(db, stagedMailStatusHistory, { stagedMailId: staged.id, status: row.status, at: row.receivedAt, note: note ?? null });
  return staged;
}

/** Sets the record's status (with the patch) and records it in the history, after the statuses it
 * passed through within the same transaction (`passed`), all at `at`. */
export function setStagedStatus(db: Db, id: number, status: string, at: string, patch: Partial<NewStagedMail> = {}, note?: string | null, passed: string[] = []): void {
  updateRow(db, stagedMails, id, { ...patch, status, updatedAt: at });
  insertRows(db, stagedMailStatusHistory, [...passed.map((s) => ({ stagedMailId: id, status: s, at, note: null })), { stagedMailId: id, status, at, note: note ?? null }]);
}

/** The status, attempts and claim, to check or take a claim without reading the record (issue 9.6). */
export function stagedClaim(db: Db, id: number): { status: string; attempts: number; claimedBy: string | null; claimedAt: string | null } | undefined {
  return stmt(db, `SELECT status, attempts, claimed_by AS claimedBy, claimed_at AS claimedAt FROM staged_mails WHERE id = ?`).get(id) as
    | { status: string; attempts: number; claimedBy: string | null; claimedAt: string | null }
    | undefined;
}

/** Where a staged record's raw bytes are: in the row, or in a spool file. */
export function rawOf(db: Db, id: number): { raw: Buffer | null; rawPath: string | null } | undefined {
  return stmt(db, `SELECT raw, raw_path AS rawPath FROM staged_mails WHERE id = ?`).get(id) as { raw: Buffer | null; rawPath: string | null } | undefined;
}

/** Another staged record with this Message-ID (a reused id is noted in the trace, issue 9.5). */
export function otherStagedWithMessageId(db: Db, messageId: string, exceptId: number): number | null {
  const row = stmt(db, `SELECT id FROM staged_mails WHERE message_id = ? AND id <> ? AND status <> 'duplicate' ORDER BY id LIMIT 1`).get(messageId, exceptId) as { id: number } | undefined;
  return row?.id ?? null;
}

/** Staged records in these statuses, received since a time, oldest first (bulk resubmit). */
export function listStagedIds(db: Db, statuses: string[], since: string | null): number[] {
  const marks = statuses.map(() => "?").join(", ");
  return (stmt(db, `SELECT id FROM staged_mails WHERE status IN (${marks}) AND received_at >= ? ORDER BY id`).all(...statuses, since ?? "") as { id: number }[]).map((r) => r.id);
}

/** Every spool and attachment file a record still refers to (orphan sweep, issue 9.6). */
export function referencedFiles(db: Db): Set<string> {
  const rows = stmt(db, `SELECT raw_path AS p FROM staged_mails WHERE raw_path IS NOT NULL UNION SELECT stored_path FROM attachments`).all() as { p: string }[];
  return new Set(rows.map((r) => r.p));
}

/** The status and attempt count, to check a claim without reading the record. */
export function stagedStatus(db: Db, id: number): { status: string; attempts: number } | undefined {
  return stmt(db, `SELECT status, attempts FROM staged_mails WHERE id = ?`).get(id) as { status: string; attempts: number } | undefined;
}

export function updateStaged(db: Db, id: number, patch: Partial<NewStagedMail>): void {
  updateRow(db, stagedMails, id, patch);
}

export function getStaged(db: Db, id: number): StagedMail | undefined {
  return getOne(db, stagedMails, `WHERE id = ?`, id);
}

export type StagedSummary = Pick<StagedMail, "id" | "receivedAt" | "updatedAt" | "status" | "fromAddress" | "subject" | "reason" | "error" | "duplicateOf" | "rawSize" | "source">;

const SUMMARY = `SELECT id, received_at AS receivedAt, updated_at AS updatedAt, status, from_address AS fromAddress, subject, reason, error,
  duplicate_of AS duplicateOf, raw_size AS rawSize, source FROM staged_mails`;

export function listStaged(db: Db, opts: { status?: string; limit: number }): StagedSummary[] {
  return (opts.status
    ? stmt(db, `${SUMMARY} WHERE status = ? ORDER BY id DESC LIMIT ?`).all(opts.status, opts.limit)
    : stmt(db, `${SUMMARY} ORDER BY id DESC LIMIT ?`).all(opts.limit)) as StagedSummary[];
}

/** Records left in new / in_process / workflow since before `olderThan` (a crash or kill). */
export function listStuckStaged(db: Db, olderThan: string): StagedMail[] {
  return getAll(db, stagedMails, `WHERE status IN ('new', 'in_process', 'workflow') AND updated_at < ? ORDER BY id`, olderThan);
}

export function statusHistory(db: Db, stagedMailId: number): StatusChange[] {
  return getAll(db, stagedMailStatusHistory, `WHERE staged_mail_id = ? ORDER BY id`, stagedMailId);
}

export function countStagedByStatus(db: Db): Record<string, number> {
  const rows = stmt(db, `SELECT status, count(*) AS n FROM staged_mails GROUP BY status`).all() as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

// ---- attachments ----

export function insertAttachments(db: Db, rows: NewAttachment[]): void {
  for (const row of rows) insertRow(db, attachments, row);
}

/** Attachment rows of an earlier parse that no action took (a record parsed again replaces them). */
export function deleteUnlinkedAttachments(db: Db, stagedMailId: number): void {
  stmt(db, `DELETE FROM attachments WHERE staged_mail_id = ? AND action_id IS NULL`).run(stagedMailId);
}

export function attachmentsOf(db: Db, stagedMailId: number): Attachment[] {
  return getAll(db, attachments, `WHERE staged_mail_id = ? ORDER BY id`, stagedMailId);
}

export function linkAttachmentsToAction(db: Db, stagedMailId: number, actionId: number): void {
  stmt(db, `UPDATE attachments SET action_id = ? WHERE staged_mail_id = ?`).run(actionId, stagedMailId);
}

// ---- accounts, users, identifications ----

export function createAccount(db: Db, name: string, supportLevel: string): Account {
  return getAccount(db, insertRow(db, accounts, { name, supportLevel }))!;
}

export function getAccount(db: Db, id: number): Account | undefined {
  return getOne(db, accounts, `WHERE id = ?`, id);
}

export function createUser(db: Db, row: typeof users.$inferInsert): User {
  return getUser(db, insertRow(db, users, row))!;
}

export function findUserByEmail(db: Db, email: string): User | undefined {
  return getOne(db, users, `WHERE email = ?`, email.toLowerCase());
}

export function getUser(db: Db, id: number): User | undefined {
  return getOne(db, users, `WHERE id = ?`, id);
}

export function getIdentification(db: Db, id: number): UserIdentification | undefined {
  return getOne(db, userIdentifications, `WHERE id = ?`, id);
}

export function firstIdentificationOfUser(db: Db, userId: number): UserIdentification | undefined {
  return getOne(db, userIdentifications, `WHERE user_id = ? ORDER BY id LIMIT 1`, userId);
}

export function firstIdentificationByEmail(db: Db, email: string): UserIdentification | undefined {
  return getOne(db, userIdentifications, `WHERE email = ? ORDER BY id LIMIT 1`, email.toLowerCase());
}

export function createIdentification(db: Db, row: typeof userIdentifications.$inferInsert): UserIdentification {
  return getIdentification(db, insertRow(db, userIdentifications, row))!;
}

/** The email address behind an identification: the registered user's, else its own. */
export function identificationEmail(db: Db, id: number): string | null {
  const row = stmt(db, `SELECT coalesce(u.email, i.email) AS email FROM user_identifications i LEFT JOIN users u ON u.id = i.user_id WHERE i.id = ?`).get(id) as
    | { email: string | null }
    | undefined;
  return row?.email ?? null;
}

// ---- issues ----

export function getIssue(db: Db, id: number): Issue | undefined {
  return getOne(db, issues, `WHERE id = ?`, id);
}

export function getIssueByGuid(db: Db, guid: string): Issue | undefined {
  return getOne(db, issues, `WHERE guid = ?`, guid.toLowerCase());
}

export function getIssueByReference(db: Db, reference: string): Issue | undefined {
  return getOne(db, issues, `WHERE reference = ?`, reference.toUpperCase());
}

/** Inserts an issue with its reference (prefix + zero-padded id). Call inside a write transaction:
 * the id is taken as the next AUTOINCREMENT value, which no other writer can take meanwhile. */
export function createIssue(db: Db, row: NewIssue, referencePrefix: string): Issue {
  const { next } = stmt(db, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'issues'), 0), coalesce((SELECT max(id) FROM issues), 0)) + 1 AS next`).get() as { next: number };
  return insertReturning<Issue>(db, issues, { ...row, id: next, reference: `${referencePrefix}${String(next).padStart(6, "0")}`.toUpperCase() });
}

/** Updates an issue and keeps what changed in its history (issue 14), with who did it: the OS user
 * for an admin command, `staged mail N` for the mail that caused it. */
export function updateIssue(db: Db, id: number, patch: Partial<NewIssue>, actor: string): Issue {
  const before = getIssue(db, id);
  const after = updateReturning<Issue>(db, issues, id, patch)!;
  if (before) recordIssueDiff(db, before, after, actor);
  return after;
}

export function splitChildrenOf(db: Db, id: number): Issue[] {
  return getAll(db, issues, `WHERE split_from_id = ? ORDER BY id`, id);
}

export function listIssues(db: Db, opts: { state?: string; limit?: number }): Issue[] {
  const limit = opts.limit ?? 1000;
  return opts.state ? getAll(db, issues, `WHERE state = ? ORDER BY id DESC LIMIT ?`, opts.state, limit) : getAll(db, issues, `ORDER BY id DESC LIMIT ?`, limit);
}

export function issuesOfStaged(db: Db, stagedMailId: number): { issueId: number; actionId: number }[] {
  return stmt(db, `SELECT a.issue_id AS issueId, a.id AS actionId FROM actions a JOIN interactions i ON i.id = a.interaction_id WHERE i.staged_mail_id = ? ORDER BY a.id`).all(
    stagedMailId,
  ) as { issueId: number; actionId: number }[];
}

/** New issues opened for one identification since a time (flood limit). */
export function countIssuesOpenedSince(db: Db, userIdentificationId: number, since: string): number {
  return (stmt(db, `SELECT count(*) AS n FROM issues WHERE user_identification_id = ? AND open_date >= ?`).get(userIdentificationId, since) as { n: number }).n;
}

// ---- interactions and actions ----

export function insertInteraction(db: Db, row: typeof interactions.$inferInsert): number {
  return insertRow(db, interactions, row);
}

export function insertAction(db: Db, row: typeof actions.$inferInsert): number {
  return insertRow(db, actions, row);
}

export function actionDetails(db: Db, actionId: number): string | null {
  return (stmt(db, `SELECT details FROM actions WHERE id = ?`).get(actionId) as { details: string } | undefined)?.details ?? null;
}

type ActionRow = { id: number; interactionId: number; details: string; replyText: string | null; createdAt: string; stagedMailId: number | null };

export function actionsOfIssue(db: Db, issueId: number): ActionRow[] {
  return stmt(
    db,
    `SELECT a.id, a.interaction_id AS interactionId, a.details, a.reply_text AS replyText, a.created_at AS createdAt, i.staged_mail_id AS stagedMailId
     FROM actions a JOIN interactions i ON i.id = a.interaction_id WHERE a.issue_id = ? ORDER BY a.id`,
  ).all(issueId) as ActionRow[];
}

// ---- outbound mail ----

export function insertOutbound(db: Db, row: typeof outboundMails.$inferInsert): number {
  return insertRow(db, outboundMails, row);
}

export function updateOutbound(db: Db, id: number, patch: Partial<typeof outboundMails.$inferInsert>): void {
  updateRow(db, outboundMails, id, patch);
}

/** Confirmations to an address since a time that were sent or attempted (skipped ones do not count). */
export function countConfirmationsSince(db: Db, toAddress: string, since: string): number {
  return (
    stmt(db, `SELECT count(*) AS n FROM outbound_mails WHERE kind = 'confirmation' AND to_address = ? AND created_at >= ? AND status <> 'skipped'`).get(
      toAddress.toLowerCase(),
      since,
    ) as { n: number }
  ).n;
}

/** Outbound rows to retry: these ids, or every failed one with attempts left. */
export function outboundToRetry(db: Db, ids: number[], maxAttempts: number): OutboundMail[] {
  if (ids.length) return getAll(db, outboundMails, `WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id`, ...ids);
  return getAll(db, outboundMails, `WHERE status = 'failed' AND attempts < ? ORDER BY id`, maxAttempts);
}

/** Admin notices sent (or being sent) since a time: the hourly limit (issue 9.9). */
export function countAdminNoticesSince(db: Db, since: string): number {
  return (stmt(db, `SELECT count(*) AS n FROM outbound_mails WHERE kind = 'admin-error' AND created_at >= ? AND status IN ('sending', 'sent', 'failed')`).get(since) as { n: number }).n;
}

/** Admin notices held back for the next digest. */
export function pendingDigest(db: Db): OutboundMail[] {
  return getAll(db, outboundMails, `WHERE kind = 'admin-error' AND status = 'digest' ORDER BY id`);
}

export function getOutbound(db: Db, id: number): OutboundMail | undefined {
  return getOne(db, outboundMails, `WHERE id = ?`, id);
}

export function listOutbound(db: Db, limit = 1000): OutboundMail[] {
  return getAll(db, outboundMails, `ORDER BY id DESC LIMIT ?`, limit);
}

export function getOutboundByMessageId(db: Db, messageId: string): OutboundMail | undefined {
  return getOne(db, outboundMails, `WHERE message_id = ?`, messageId);
}
