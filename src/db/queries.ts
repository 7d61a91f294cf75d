// Every database access of the product, as named functions. A second engine (PostgreSQL) is a
// second implementation of these, not a rewrite of the callers.
import { and, asc, desc, eq, gte, inArray, lt, ne, sql } from "drizzle-orm";
import type { Db } from "./open.js";
import { accounts, actions, attachments, interactions, issues, outboundMails, stagedMailStatusHistory, stagedMails, userIdentifications, users } from "./schema.js";

export type StagedMail = typeof stagedMails.$inferSelect;
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

// ---- staged mail ----

export function findStagedByDedupKey(db: Db, key: string): StagedMail | undefined {
  return db.select().from(stagedMails).where(eq(stagedMails.dedupKey, key)).get();
}

/** Inserts the staged row with its first history entry; the unique dedup key makes a concurrent
 * redelivery fail here rather than be processed twice. */
export function insertStaged(db: Db, row: NewStagedMail, note?: string): number {
  const { id } = db.insert(stagedMails).values(row).returning({ id: stagedMails.id }).get();
  addStatusHistory(db, id, row.status, row.receivedAt, note);
  return id;
}

export function addStatusHistory(db: Db, stagedMailId: number, status: string, at: string, note?: string | null): void {
  db.insert(stagedMailStatusHistory).values({ stagedMailId, status, at, note: note ?? null }).run();
}

export function setStagedStatus(db: Db, id: number, status: string, at: string, patch: Partial<NewStagedMail> = {}, note?: string | null): void {
  db.update(stagedMails).set({ ...patch, status, updatedAt: at }).where(eq(stagedMails.id, id)).run();
  addStatusHistory(db, id, status, at, note);
}

export function updateStaged(db: Db, id: number, patch: Partial<NewStagedMail>): void {
  db.update(stagedMails).set(patch).where(eq(stagedMails.id, id)).run();
}

export function getStaged(db: Db, id: number): StagedMail | undefined {
  return db.select().from(stagedMails).where(eq(stagedMails.id, id)).get();
}

export type StagedSummary = Pick<StagedMail, "id" | "receivedAt" | "updatedAt" | "status" | "fromAddress" | "subject" | "reason" | "error" | "duplicateOf" | "rawSize" | "source">;

export function listStaged(db: Db, opts: { status?: string; limit: number }): StagedSummary[] {
  const cols = {
    id: stagedMails.id,
    receivedAt: stagedMails.receivedAt,
    updatedAt: stagedMails.updatedAt,
    status: stagedMails.status,
    fromAddress: stagedMails.fromAddress,
    subject: stagedMails.subject,
    reason: stagedMails.reason,
    error: stagedMails.error,
    duplicateOf: stagedMails.duplicateOf,
    rawSize: stagedMails.rawSize,
    source: stagedMails.source,
  };
  const q = db.select(cols).from(stagedMails);
  const filtered = opts.status ? q.where(eq(stagedMails.status, opts.status)) : q;
  return filtered.orderBy(desc(stagedMails.id)).limit(opts.limit).all();
}

/** Records left in new / in_process / workflow since before `olderThan` (a crash or kill). */
export function listStuckStaged(db: Db, olderThan: string): StagedMail[] {
  return db
    .select()
    .from(stagedMails)
    .where(and(inArray(stagedMails.status, ["new", "in_process", "workflow"]), lt(stagedMails.updatedAt, olderThan)))
    .orderBy(asc(stagedMails.id))
    .all();
}

export function statusHistory(db: Db, stagedMailId: number): StatusChange[] {
  return db.select().from(stagedMailStatusHistory).where(eq(stagedMailStatusHistory.stagedMailId, stagedMailId)).orderBy(asc(stagedMailStatusHistory.id)).all();
}

export function countStagedByStatus(db: Db): Record<string, number> {
  const rows = db.select({ status: stagedMails.status, n: sql<number>`count(*)` }).from(stagedMails).groupBy(stagedMails.status).all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

// ---- attachments ----

export function insertAttachments(db: Db, rows: NewAttachment[]): void {
  if (rows.length) db.insert(attachments).values(rows).run();
}

export function attachmentsOf(db: Db, stagedMailId: number): Attachment[] {
  return db.select().from(attachments).where(eq(attachments.stagedMailId, stagedMailId)).orderBy(asc(attachments.id)).all();
}

export function linkAttachmentsToAction(db: Db, stagedMailId: number, actionId: number): void {
  db.update(attachments).set({ actionId }).where(eq(attachments.stagedMailId, stagedMailId)).run();
}

// ---- accounts, users, identifications ----

export function createAccount(db: Db, name: string, supportLevel: string): Account {
  return db.insert(accounts).values({ name, supportLevel }).returning().get();
}

export function getAccount(db: Db, id: number): Account | undefined {
  return db.select().from(accounts).where(eq(accounts.id, id)).get();
}

export function createUser(db: Db, row: typeof users.$inferInsert): User {
  return db.insert(users).values(row).returning().get();
}

export function findUserByEmail(db: Db, email: string): User | undefined {
  return db.select().from(users).where(eq(users.email, email.toLowerCase())).get();
}

export function getUser(db: Db, id: number): User | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function getIdentification(db: Db, id: number): UserIdentification | undefined {
  return db.select().from(userIdentifications).where(eq(userIdentifications.id, id)).get();
}

export function firstIdentificationOfUser(db: Db, userId: number): UserIdentification | undefined {
  return db.select().from(userIdentifications).where(eq(userIdentifications.userId, userId)).orderBy(asc(userIdentifications.id)).limit(1).get();
}

export function firstIdentificationByEmail(db: Db, email: string): UserIdentification | undefined {
  return db.select().from(userIdentifications).where(eq(userIdentifications.email, email.toLowerCase())).orderBy(asc(userIdentifications.id)).limit(1).get();
}

export function createIdentification(db: Db, row: typeof userIdentifications.$inferInsert): UserIdentification {
  return db.insert(userIdentifications).values(row).returning().get();
}

/** The email address behind an identification: the registered user's, else its own. */
export function identificationEmail(db: Db, id: number): string | null {
  const row = db
    .select({ own: userIdentifications.email, user: users.email })
    .from(userIdentifications)
    .leftJoin(users, eq(users.id, userIdentifications.userId))
    .where(eq(userIdentifications.id, id))
    .get();
  return row?.user ?? row?.own ?? null;
}

// ---- issues ----

export function getIssue(db: Db, id: number): Issue | undefined {
  return db.select().from(issues).where(eq(issues.id, id)).get();
}

export function getIssueByGuid(db: Db, guid: string): Issue | undefined {
  return db.select().from(issues).where(eq(issues.guid, guid.toLowerCase())).get();
}

export function getIssueByReference(db: Db, reference: string): Issue | undefined {
  return db.select().from(issues).where(eq(issues.reference, reference.toUpperCase())).get();
}

/** Inserts an issue and gives it its reference (prefix + zero-padded id). */
export function createIssue(db: Db, row: NewIssue, referencePrefix: string): Issue {
  const created = db.insert(issues).values(row).returning().get();
  const reference = `${referencePrefix}${String(created.id).padStart(6, "0")}`.toUpperCase();
  return db.update(issues).set({ reference }).where(eq(issues.id, created.id)).returning().get();
}

export function updateIssue(db: Db, id: number, patch: Partial<NewIssue>): Issue {
  return db.update(issues).set(patch).where(eq(issues.id, id)).returning().get();
}

export function splitChildrenOf(db: Db, id: number): Issue[] {
  return db.select().from(issues).where(eq(issues.splitFromId, id)).orderBy(asc(issues.id)).all();
}

export function listIssues(db: Db, opts: { state?: string; limit?: number }): Issue[] {
  const q = db.select().from(issues);
  const filtered = opts.state ? q.where(eq(issues.state, opts.state)) : q;
  return filtered.orderBy(desc(issues.id)).limit(opts.limit ?? 1000).all();
}

/** Lower-case addresses of everyone who wrote on an issue, its customer first. */
export function participantEmails(db: Db, issueId: number): string[] {
  const issue = getIssue(db, issueId);
  if (!issue) return [];
  const ids = db
    .selectDistinct({ uid: interactions.userIdentificationId })
    .from(actions)
    .innerJoin(interactions, eq(interactions.id, actions.interactionId))
    .where(eq(actions.issueId, issueId))
    .all()
    .map((r) => r.uid);
  const all = [issue.userIdentificationId, ...ids.filter((x) => x !== issue.userIdentificationId)];
  return [...new Set(all.map((id) => identificationEmail(db, id)).filter((e): e is string => !!e).map((e) => e.toLowerCase()))];
}

export function issuesOfStaged(db: Db, stagedMailId: number): { issueId: number; actionId: number }[] {
  return db
    .select({ issueId: actions.issueId, actionId: actions.id })
    .from(actions)
    .innerJoin(interactions, eq(interactions.id, actions.interactionId))
    .where(eq(interactions.stagedMailId, stagedMailId))
    .orderBy(asc(actions.id))
    .all();
}

/** New issues opened for one identification since a time (flood limit). */
export function countIssuesOpenedSince(db: Db, userIdentificationId: number, since: string): number {
  return db
    .select({ n: sql<number>`count(*)` })
    .from(issues)
    .where(and(eq(issues.userIdentificationId, userIdentificationId), gte(issues.openDate, since)))
    .get()!.n;
}

// ---- interactions and actions ----

export function insertInteraction(db: Db, row: typeof interactions.$inferInsert): number {
  return db.insert(interactions).values(row).returning({ id: interactions.id }).get().id;
}

export function insertAction(db: Db, row: typeof actions.$inferInsert): number {
  return db.insert(actions).values(row).returning({ id: actions.id }).get().id;
}

export function actionsOfIssue(db: Db, issueId: number) {
  return db
    .select({ id: actions.id, interactionId: actions.interactionId, details: actions.details, createdAt: actions.createdAt, stagedMailId: interactions.stagedMailId })
    .from(actions)
    .innerJoin(interactions, eq(interactions.id, actions.interactionId))
    .where(eq(actions.issueId, issueId))
    .orderBy(asc(actions.id))
    .all();
}

// ---- outbound mail ----

export function insertOutbound(db: Db, row: typeof outboundMails.$inferInsert): number {
  return db.insert(outboundMails).values(row).returning({ id: outboundMails.id }).get().id;
}

export function updateOutbound(db: Db, id: number, patch: Partial<typeof outboundMails.$inferInsert>): void {
  db.update(outboundMails).set(patch).where(eq(outboundMails.id, id)).run();
}

/** Confirmations to an address since a time that were sent or attempted (skipped ones do not count). */
export function countConfirmationsSince(db: Db, toAddress: string, since: string): number {
  return db
    .select({ n: sql<number>`count(*)` })
    .from(outboundMails)
    .where(and(eq(outboundMails.kind, "confirmation"), eq(outboundMails.toAddress, toAddress.toLowerCase()), gte(outboundMails.createdAt, since), ne(outboundMails.status, "skipped")))
    .get()!.n;
}

export function listOutbound(db: Db, limit = 1000): OutboundMail[] {
  return db.select().from(outboundMails).orderBy(desc(outboundMails.id)).limit(limit).all();
}

export function getOutboundByMessageId(db: Db, messageId: string): OutboundMail | undefined {
  return db.select().from(outboundMails).where(eq(outboundMails.messageId, messageId)).get();
}
