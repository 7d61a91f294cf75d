// Every database access of the product, as named functions. A second engine (PostgreSQL) is a
// second implementation of these, not a rewrite of the callers.
import type { Db } from "../store.js";
import { accounts, actions, attachments, interactions, issues, outboundMails, stagedMailStatusHistory, stagedMails, userIdentifications, users } from "../tables.generated.js";
import { recordIssueDiff } from "./history-queries.js";
import { getAll, getOne, info, insertAhead, insertReturning, insertRow, insertNumbered, insertWithChild, insertWrites, mapRow, runWrites, updateReturning, updateRow, updateWrite } from "../sql.js";

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

// ---- staged mail ----

/** The id of the staged mail holding this dedup key, if any. */
export async function findStagedByDedupKey(db: Db, key: string): Promise<{ id: number } | undefined> {
  return (await db.get(`SELECT id FROM staged_mails WHERE dedup_key = ?`, [key])) as { id: number } | undefined;
}

/**
 * Inserts the staged row with its first history entry. Undefined when its dedup key is taken: a
 * concurrent redelivery staged the same mail first (issue 11.3: the unique key decides, on both
 * engines; the caller then treats this delivery as that record's redelivery).
 */
export async function insertStaged(db: Db, row: NewStagedMail, note?: string): Promise<StagedMail | undefined> {
  const history = { table: stagedMailStatusHistory, parentColumn: "stagedMailId", values: { status: row.status, at: row.receivedAt, note: note ?? null } };
  return (await insertWithChild<StagedMail>(db, stagedMails, row, history, row.dedupKey ? "dedup_key" : undefined))?.row;
}

/**
 * insertStaged with its id drawn ahead (Db.nextId), both rows deferred (import's batch on
 * PostgreSQL, once the look for its dedup key, read early, found it free: docs/store.md). A key
 * taken meanwhile by another writer fails the insert, and the batch runs again (replayOnFailure).
 */
export async function insertStagedAhead(db: Db, row: NewStagedMail): Promise<StagedMail> {
  const staged = await insertAhead<StagedMail>(db, stagedMails, await db.nextId!(info(stagedMails).name), row, { replayOnFailure: true });
  await runWrites(db, insertWrites(stagedMailStatusHistory, [{ stagedMailId: staged.id, status: row.status, at: row.receivedAt, note: null }]));
  return staged;
}

/**
 * Takes the claim on a `new` record if it is still as it was read (compare-and-set, issue 11.3):
 * of two processes racing for it, exactly one gets true, on either engine.
 */
export async function takeClaim(db: Db, id: number, seen: { attempts: number; claimedBy: string | null }, by: string, at: string): Promise<boolean> {
  const r = await db.get(
    `UPDATE staged_mails SET claimed_by = ?, claimed_at = ?, attempts = ?, updated_at = ?
     WHERE id = ? AND status = 'new' AND attempts = ? AND claimed_by IS NOT DISTINCT FROM ? RETURNING id`,
    [by, at, seen.attempts + 1, at, id, seen.attempts, seen.claimedBy],
  );
  return r !== undefined;
}

/** Sets the record's status (with the patch) and records it in the history, after the statuses it
 * passed through within the same transaction (`passed`), all at `at`. */
export async function setStagedStatus(db: Db, id: number, status: string, at: string, patch: Partial<NewStagedMail> = {}, note?: string | null, passed: string[] = []): Promise<void> {
  await runWrites(db, [
    updateWrite(stagedMails, id, { ...patch, status, updatedAt: at }),
    ...insertWrites(stagedMailStatusHistory, [...passed.map((s) => ({ stagedMailId: id, status: s, at, note: null })), { stagedMailId: id, status, at, note: note ?? null }]),
  ]);
}

/** The status, attempts and claim, to check or take a claim without reading the record (issue 9.6). */
export async function stagedClaim(db: Db, id: number): Promise<{ status: string; attempts: number; claimedBy: string | null; claimedAt: string | null } | undefined> {
  return db.get(`SELECT status, attempts, claimed_by AS "claimedBy", claimed_at AS "claimedAt" FROM staged_mails WHERE id = ?`, [id]);
}

/**
 * The whole record, read to commit the workflow on it: its claim is checked and its fields used
 * from this one read. On PostgreSQL the row stays locked until the transaction ends, so no takeover
 * slips in between the check and the commit (on SQLite the write transaction already excludes
 * every other writer).
 */
export async function stagedForCommit(db: Db, id: number, messageId: string | null = null): Promise<{ row: StagedMail; messageIdReusedBy: number | null } | undefined> {
  // In the same statement: the first other record (not a duplicate) with the Message-ID this parse
  // found, noted in the trace (issue 9.5: a reused Message-ID is no proof of identity).
  const reused = `(${firstWithMessageIdSql("AND o.id <> staged_mails.id")}) AS "messageIdReusedBy"`;
  const found = await db.get<Record<string, unknown>>(`SELECT ${info(stagedMails).select}, ${reused} FROM staged_mails WHERE id = ?${db.engine === "postgres" ? " FOR UPDATE" : ""}`, [messageId, id]);
  if (!found) return undefined;
  const { messageIdReusedBy, ...row } = found;
  return { row: mapRow<StagedMail>(stagedMails, row), messageIdReusedBy: (messageIdReusedBy as number | null) ?? null };
}

/**
 * The first record (not a duplicate) with this Message-ID: stagedForCommit's note, asked before the
 * record itself is staged (import: pipeline/read-ahead.ts).
 */
export async function firstWithMessageId(db: Db, messageId: string): Promise<number | null> {
  return (await db.get<{ id: number }>(firstWithMessageIdSql(""), [messageId]))?.id ?? null;
}

/** The first record (not a duplicate) with the Message-ID `?`, and whatever else `also` asks of it (o). */
const firstWithMessageIdSql = (also: string) => `SELECT o.id FROM staged_mails o WHERE o.message_id = ? ${also} AND o.status <> 'duplicate' ORDER BY o.id LIMIT 1`;

/** Where a staged record's raw bytes are: in the row, or in a spool file. */
export async function rawOf(db: Db, id: number): Promise<{ raw: Buffer | null; rawPath: string | null } | undefined> {
  return (await db.get(`SELECT raw, raw_path AS "rawPath" FROM staged_mails WHERE id = ?`, [id])) as { raw: Buffer | null; rawPath: string | null } | undefined;
}

/** Staged records in these statuses, received since a time, oldest first (bulk resubmit). */
export async function listStagedIds(db: Db, statuses: string[], since: string | null): Promise<number[]> {
  const marks = statuses.map(() => "?").join(", ");
  return ((await db.all(`SELECT id FROM staged_mails WHERE status IN (${marks}) AND received_at >= ? ORDER BY id`, [...statuses, since ?? ""])) as { id: number }[]).map((r) => r.id);
}

/** Every spool and attachment file a record still refers to (orphan sweep, issue 9.6). */
export async function referencedFiles(db: Db): Promise<Set<string>> {
  const rows = (await db.all(`SELECT raw_path AS p FROM staged_mails WHERE raw_path IS NOT NULL UNION SELECT stored_path FROM attachments`)) as { p: string }[];
  return new Set(rows.map((r) => r.p));
}

/** The status and attempt count, to check a claim without reading the record. */
export async function stagedStatus(db: Db, id: number): Promise<{ status: string; attempts: number } | undefined> {
  return (await db.get(`SELECT status, attempts FROM staged_mails WHERE id = ?`, [id])) as { status: string; attempts: number } | undefined;
}

export async function updateStaged(db: Db, id: number, patch: Partial<NewStagedMail>): Promise<void> {
  await updateRow(db, stagedMails, id, patch);
}

export async function getStaged(db: Db, id: number): Promise<StagedMail | undefined> {
  return getOne(db, stagedMails, `WHERE id = ?`, id);
}

export type StagedSummary = Pick<StagedMail, "id" | "receivedAt" | "updatedAt" | "status" | "fromAddress" | "subject" | "reason" | "error" | "duplicateOf" | "rawSize" | "source">;

const SUMMARY = `SELECT id, received_at AS "receivedAt", updated_at AS "updatedAt", status, from_address AS "fromAddress", subject, reason, error,
  duplicate_of AS "duplicateOf", raw_size AS "rawSize", source FROM staged_mails`;

export async function listStaged(db: Db, opts: { status?: string; limit: number }): Promise<StagedSummary[]> {
  return (opts.status
    ? (await db.all(`${SUMMARY} WHERE status = ? ORDER BY id DESC LIMIT ?`, [opts.status, opts.limit]))
    : (await db.all(`${SUMMARY} ORDER BY id DESC LIMIT ?`, [opts.limit]))) as StagedSummary[];
}

/** Records left in new / in_process / workflow since before `olderThan` (a crash or kill). */
export async function listStuckStaged(db: Db, olderThan: string): Promise<StagedMail[]> {
  return getAll(db, stagedMails, `WHERE status IN ('new', 'in_process', 'workflow') AND updated_at < ? ORDER BY id`, olderThan);
}

export async function statusHistory(db: Db, stagedMailId: number): Promise<StatusChange[]> {
  return getAll(db, stagedMailStatusHistory, `WHERE staged_mail_id = ? ORDER BY id`, stagedMailId);
}

export async function countStagedByStatus(db: Db): Promise<Record<string, number>> {
  const rows = (await db.all(`SELECT status, count(*) AS n FROM staged_mails GROUP BY status`)) as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

// ---- attachments ----

/**
 * What a parse found, onto its record (in the workflow's transaction): the attachment rows of an
 * earlier parse that no action took give way to `rows` (a record parsed again replaces them), and
 * the record gets its components. One statement on PostgreSQL (runWrites): its parts share one
 * snapshot, so the DELETE never meets the rows inserted beside it.
 */
export async function writeComponents(db: Db, stagedMailId: number, patch: Partial<NewStagedMail>, rows: NewAttachment[], replace = true): Promise<void> {
  await runWrites(db, [
    // replace: false for a record inserted in this very transaction, which has no earlier rows.
    ...(replace ? [{ sql: `DELETE FROM attachments WHERE staged_mail_id = ? AND action_id IS NULL`, params: [stagedMailId] }] : []),
    ...insertWrites(attachments, rows),
    updateWrite(stagedMails, stagedMailId, patch),
  ]);
}

export async function attachmentsOf(db: Db, stagedMailId: number): Promise<Attachment[]> {
  return getAll(db, attachments, `WHERE staged_mail_id = ? ORDER BY id`, stagedMailId);
}

export async function linkAttachmentsToAction(db: Db, stagedMailId: number, actionId: number): Promise<void> {
  await db.run(`UPDATE attachments SET action_id = ? WHERE staged_mail_id = ?`, [actionId, stagedMailId]);
}

// ---- accounts, users, identifications ----

export async function createAccount(db: Db, name: string, supportLevel: string): Promise<Account> {
  return (await getAccount(db, await insertRow(db, accounts, { name, supportLevel })))!;
}

export async function getAccount(db: Db, id: number): Promise<Account | undefined> {
  return getOne(db, accounts, `WHERE id = ?`, id);
}

export async function createUser(db: Db, row: typeof users.$inferInsert): Promise<User> {
  return (await getUser(db, await insertRow(db, users, row)))!;
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return getOne(db, users, `WHERE email = ?`, email.toLowerCase());
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
  return getOne(db, users, `WHERE id = ?`, id);
}

export async function getIdentification(db: Db, id: number): Promise<UserIdentification | undefined> {
  return getOne(db, userIdentifications, `WHERE id = ?`, id);
}

/**
 * Who an address is, in one statement (the sender lookup of every mail, domain.md §2): the registered
 * user with that email and the support level of their account, that user's first identification,
 * and the first identification with that email of its own.
 */
export interface SenderFound {
  userId: number | null;
  supportLevel: string | null;
  userIdentificationId: number | null;
  identificationByEmail: number | null;
}

export async function senderByEmail(db: Db, email: string): Promise<SenderFound> {
  return (await db.get(
    `SELECT u.id AS "userId", a.support_level AS "supportLevel",
       (SELECT i.id FROM user_identifications i WHERE i.user_id = u.id ORDER BY i.id LIMIT 1) AS "userIdentificationId",
       (SELECT i.id FROM user_identifications i WHERE i.email = e.email ORDER BY i.id LIMIT 1) AS "identificationByEmail"
     FROM (SELECT CAST(? AS TEXT) AS email) e LEFT JOIN users u ON u.email = e.email LEFT JOIN accounts a ON a.id = u.account_id`,
    [email.toLowerCase()],
  ))!;
}

export async function createIdentification(db: Db, row: typeof userIdentifications.$inferInsert): Promise<UserIdentification> {
  // Ids drawn ahead (import's batch on PostgreSQL): written with the next statement waited for.
  if (db.nextId) return insertAhead<UserIdentification>(db, userIdentifications, await db.nextId(info(userIdentifications).name), row);
  return insertReturning<UserIdentification>(db, userIdentifications, row);
}

/** The email address behind an identification: the registered user's, else its own. */
export async function identificationEmail(db: Db, id: number): Promise<string | null> {
  const row = (await db.get(`SELECT coalesce(u.email, i.email) AS email FROM user_identifications i LEFT JOIN users u ON u.id = i.user_id WHERE i.id = ?`, [id])) as
    | { email: string | null }
    | undefined;
  return row?.email ?? null;
}

// ---- issues ----

export async function getIssue(db: Db, id: number): Promise<Issue | undefined> {
  return getOne(db, issues, `WHERE id = ?`, id);
}

export async function getIssueByGuid(db: Db, guid: string): Promise<Issue | undefined> {
  return getOne(db, issues, `WHERE guid = ?`, guid.toLowerCase());
}

export async function getIssueByReference(db: Db, reference: string): Promise<Issue | undefined> {
  return getOne(db, issues, `WHERE reference = ?`, reference.toUpperCase());
}

/** Issue 11.4: the issues a mail could name (by our Message-ID guids or by reference), in one query. */
export async function issuesNamed(db: Db, guids: string[], references: string[]): Promise<Issue[]> {
  if (!guids.length && !references.length) return [];
  const marks = (n: number) => Array(n).fill("?").join(", ");
  const where = [guids.length ? `guid IN (${marks(guids.length)})` : null, references.length ? `reference IN (${marks(references.length)})` : null].filter(Boolean).join(" OR ");
  return getAll(db, issues, `WHERE ${where}`, ...guids.map((g) => g.toLowerCase()), ...references.map((r) => r.toUpperCase()));
}

/**
 * Inserts an issue with its reference (prefix + the id, zero-padded to 6 digits). The id comes from
 * the table's own counter (SQLite AUTOINCREMENT, a PostgreSQL identity sequence), which concurrent
 * writers never share (issue 11.3). Runs in the caller's write transaction (every caller holds one):
 * a savepoint of its own would undo nothing the caller's rollback does not.
 */
export async function createIssue(tx: Db, row: NewIssue, referencePrefix: string): Promise<Issue> {
  const prefix = referencePrefix.toUpperCase();
  // One statement on both engines: the id drawn first, the reference made from it.
  return insertNumbered<Issue>(tx, issues, { ...row, reference: undefined }, "reference", prefix, 6);
}

/** Updates an issue and keeps what changed in its history (issue 14), with who did it: the OS user
 * for an admin command, `staged mail N` for the mail that caused it. */
export async function updateIssue(db: Db, id: number, patch: Partial<NewIssue>, actor: string): Promise<Issue> {
  const before = await getIssue(db, id);
  const after = (await updateReturning<Issue>(db, issues, id, patch))!;
  if (before) await recordIssueDiff(db, before, after, actor);
  return after;
}

export async function splitChildrenOf(db: Db, id: number): Promise<Issue[]> {
  return getAll(db, issues, `WHERE split_from_id = ? ORDER BY id`, id);
}

export async function listIssues(db: Db, opts: { state?: string; limit?: number }): Promise<Issue[]> {
  const limit = opts.limit ?? 1000;
  return opts.state ? await getAll(db, issues, `WHERE state = ? ORDER BY id DESC LIMIT ?`, opts.state, limit) : await getAll(db, issues, `ORDER BY id DESC LIMIT ?`, limit);
}

export async function issuesOfStaged(db: Db, stagedMailId: number): Promise<{ issueId: number; actionId: number }[]> {
  return (await db.all(`SELECT a.issue_id AS "issueId", a.id AS "actionId" FROM actions a JOIN interactions i ON i.id = a.interaction_id WHERE i.staged_mail_id = ? ORDER BY a.id`, [stagedMailId])) as { issueId: number; actionId: number }[];
}

/** New issues opened for one identification since a time (flood limit). */
export async function countIssuesOpenedSince(db: Db, userIdentificationId: number, since: string): Promise<number> {
  return ((await db.get(`SELECT count(*) AS n FROM issues WHERE user_identification_id = ? AND open_date >= ?`, [userIdentificationId, since])) as { n: number }).n;
}

// ---- interactions and actions ----

export async function insertInteraction(db: Db, row: typeof interactions.$inferInsert): Promise<number> {
  return await insertRow(db, interactions, row);
}

export async function insertAction(db: Db, row: typeof actions.$inferInsert): Promise<number> {
  return await insertRow(db, actions, row);
}

/**
 * A mail's interaction and one action per issue it lands on (domain.md §7), the action ids in the
 * order of `issueIds`. Most mail lands on one issue: then both are one statement on PostgreSQL.
 */
export async function insertInteractionWithActions(
  db: Db,
  interaction: typeof interactions.$inferInsert,
  action: Omit<typeof actions.$inferInsert, "interactionId" | "issueId">,
  issueIds: number[],
): Promise<{ interactionId: number; actionIds: number[] }> {
  if (db.nextId) {
    // Ids drawn ahead (import's batch on PostgreSQL): the rows are written with the next statement waited for.
    const interactionId = await db.nextId(info(interactions).name);
    const actionIds: number[] = [];
    for (const _ of issueIds) actionIds.push(await db.nextId(info(actions).name));
    await insertAhead(db, interactions, interactionId, interaction);
    for (const [i, issueId] of issueIds.entries()) await insertAhead(db, actions, actionIds[i], { ...action, issueId, interactionId });
    return { interactionId, actionIds };
  }
  if (issueIds.length === 1) {
    const r = (await insertWithChild<{ id: number }>(db, interactions, interaction, { table: actions, parentColumn: "interactionId", values: { ...action, issueId: issueIds[0] } }))!;
    return { interactionId: r.row.id, actionIds: [r.childId] };
  }
  const interactionId = await insertInteraction(db, interaction);
  const actionIds: number[] = [];
  for (const issueId of issueIds) actionIds.push(await insertAction(db, { ...action, issueId, interactionId }));
  return { interactionId, actionIds };
}

export async function actionDetails(db: Db, actionId: number): Promise<string | null> {
  return ((await db.get(`SELECT details FROM actions WHERE id = ?`, [actionId])) as { details: string } | undefined)?.details ?? null;
}

type ActionRow = { id: number; interactionId: number; details: string; replyText: string | null; createdAt: string; stagedMailId: number | null };

export async function actionsOfIssue(db: Db, issueId: number): Promise<ActionRow[]> {
  return (await db.all(`SELECT a.id, a.interaction_id AS "interactionId", a.details, a.reply_text AS "replyText", a.created_at AS "createdAt", i.staged_mail_id AS "stagedMailId"
     FROM actions a JOIN interactions i ON i.id = a.interaction_id WHERE a.issue_id = ? ORDER BY a.id`, [issueId])) as ActionRow[];
}

// ---- outbound mail ----

export async function insertOutbound(db: Db, row: typeof outboundMails.$inferInsert): Promise<number> {
  return await insertRow(db, outboundMails, row);
}

export async function updateOutbound(db: Db, id: number, patch: Partial<typeof outboundMails.$inferInsert>): Promise<void> {
  await updateRow(db, outboundMails, id, patch);
}

/** Confirmations to an address since a time that were sent or attempted (skipped ones do not count). */
export async function countConfirmationsSince(db: Db, toAddress: string, since: string): Promise<number> {
  return (
    (await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE kind = 'confirmation' AND to_address = ? AND created_at >= ? AND status <> 'skipped'`, [toAddress.toLowerCase(),
      since])) as { n: number }
  ).n;
}

/** Outbound rows to retry: these ids, or every failed one with attempts left. */
export async function outboundToRetry(db: Db, ids: number[], maxAttempts: number): Promise<OutboundMail[]> {
  if (ids.length) return getAll(db, outboundMails, `WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id`, ...ids);
  return getAll(db, outboundMails, `WHERE status = 'failed' AND attempts < ? ORDER BY id`, maxAttempts);
}

/** Admin notices sent (or being sent) since a time: the hourly limit (issue 9.9). */
export async function countAdminNoticesSince(db: Db, since: string): Promise<number> {
  return ((await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE kind = 'admin-error' AND created_at >= ? AND status IN ('sending', 'sent', 'failed')`, [since])) as { n: number }).n;
}

/** Admin notices held back for the next digest. */
export async function pendingDigest(db: Db): Promise<OutboundMail[]> {
  return getAll(db, outboundMails, `WHERE kind = 'admin-error' AND status = 'digest' ORDER BY id`);
}

export async function getOutbound(db: Db, id: number): Promise<OutboundMail | undefined> {
  return getOne(db, outboundMails, `WHERE id = ?`, id);
}

export async function listOutbound(db: Db, limit = 1000): Promise<OutboundMail[]> {
  return getAll(db, outboundMails, `ORDER BY id DESC LIMIT ?`, limit);
}

export async function getOutboundByMessageId(db: Db, messageId: string): Promise<OutboundMail | undefined> {
  return getOne(db, outboundMails, `WHERE message_id = ?`, messageId);
}
