// Issue 14: retention and erasure. Which rows a purge removes, and the removal itself. Id sets are
// passed as one JSON array parameter (json_each), so a purge of many rows needs no temp table and
// no limit on bound variables. The callers run these inside one write transaction.
import type { Db } from "../store.js";


/** Rows removed per table (the report of `purge`). */
export interface Removed {
  stagedMails: number;
  statusHistory: number;
  attachments: number;
  interactions: number;
  actions: number;
  outboundMails: number;
  issues: number;
  issueHistory: number;
  userIdentifications: number;
  users: number;
}

export const noneRemoved = (): Removed => ({
  stagedMails: 0,
  statusHistory: 0,
  attachments: 0,
  interactions: 0,
  actions: 0,
  outboundMails: 0,
  issues: 0,
  issueHistory: 0,
  userIdentifications: 0,
  users: 0,
});

/** `IN (the ids of one JSON array parameter)`, in each engine's JSON functions. */
const inList = (db: Db, of: "ids" | "texts" = "ids") =>
  db.engine === "sqlite" ? `IN (SELECT value FROM json_each(?))` : `IN (SELECT value${of === "ids" ? "::integer" : ""} FROM json_array_elements_text(?::json))`;
const ids = async (db: Db, sql: string, ...params: unknown[]): Promise<number[]> => ((await db.all(sql, [...params])) as { id: number }[]).map((r) => r.id);
const run = async (db: Db, sql: string, ...params: unknown[]): Promise<number> => (await db.run(sql, [...params])).changes;
const json = (list: number[]) => JSON.stringify(list);
/** `%text%` with LIKE's own wildcards taken literally (ESCAPE '\'). */
const contains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Staged mail received before `before` in one of `statuses`. */
export async function stagedOlderThan(db: Db, before: string, statuses: string[]): Promise<number[]> {
  return ids(db, `SELECT id FROM staged_mails WHERE received_at < ? AND status ${inList(db, "texts")} ORDER BY id`, before, JSON.stringify(statuses));
}

/** Everything that names one person (lower-case address): their registered user, identifications,
 * the issues they are the customer of, their interactions, and the staged mail they sent. */
export interface PersonRows {
  users: number[];
  identifications: number[];
  issues: number[];
  interactions: number[];
  staged: number[];
}

export async function rowsOfPerson(db: Db, email: string): Promise<PersonRows> {
  const users = await ids(db, `SELECT id FROM users WHERE lower(email) = ?`, email);
  const identifications = await ids(db, `SELECT id FROM user_identifications WHERE lower(email) = ? OR user_id ${inList(db)}`, email, json(users));
  const issues = await ids(db, `SELECT id FROM issues WHERE user_identification_id ${inList(db)}`, json(identifications));
  const interactions = await ids(db, `SELECT id FROM interactions WHERE user_identification_id ${inList(db)}`, json(identifications));
  // Their mail by its sender, by who it was identified as, and by the interactions recorded from
  // it; then redeliveries of that mail (the same bytes, staged again as duplicates).
  const direct = await ids(
    db,
    `SELECT id FROM staged_mails WHERE lower(from_address) = ? OR lower(envelope_sender) = ? OR user_identification_id ${inList(db)}
     UNION SELECT staged_mail_id AS id FROM interactions WHERE id ${inList(db)} AND staged_mail_id IS NOT NULL`,
    email,
    email,
    json(identifications),
    json(interactions),
  );
  const staged = await ids(db, `SELECT id FROM staged_mails WHERE id ${inList(db)} OR duplicate_of ${inList(db)} ORDER BY id`, json(direct), json(direct));
  return { users, identifications, issues, interactions, staged };
}

/** Spool and attachment files of these staged mails (candidates: removed only if nothing else refers to them). */
export async function filesOfStaged(db: Db, staged: number[]): Promise<string[]> {
  const rows = (await db.all(`SELECT raw_path AS p FROM staged_mails WHERE id ${inList(db)} AND raw_path IS NOT NULL UNION SELECT stored_path AS p FROM attachments WHERE staged_mail_id ${inList(db)}`, [json(staged),
    json(staged)])) as { p: string }[];
  return rows.map((r) => r.p);
}

/** Of these paths, the ones no remaining staged mail or attachment refers to. */
export async function unreferenced(db: Db, paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of new Set(paths)) if (!(await db.get(`SELECT 1 AS "used" FROM staged_mails WHERE raw_path = ? UNION ALL SELECT 1 FROM attachments WHERE stored_path = ? LIMIT 1`, [p, p]))) out.push(p);
  return out;
}

/**
 * Removes staged mail with its status history, attachments and the outgoing mail it caused. The
 * conversation recorded from it (interactions and actions) is removed too unless `keepText`, in
 * which case it stays on its issues, no longer linked to the staged record.
 */
export async function removeStaged(db: Db, staged: number[], keepText: boolean, removed: Removed): Promise<void> {
  const s = json(staged);
  removed.attachments += await run(db, `DELETE FROM attachments WHERE staged_mail_id ${inList(db)}`, s);
  removed.statusHistory += await run(db, `DELETE FROM staged_mail_status_history WHERE staged_mail_id ${inList(db)}`, s);
  removed.outboundMails += await run(db, `DELETE FROM outbound_mails WHERE staged_mail_id ${inList(db)}`, s);
  if (keepText) await run(db, `UPDATE interactions SET staged_mail_id = NULL WHERE staged_mail_id ${inList(db)}`, s);
  else {
    const interactions = json(await ids(db, `SELECT id FROM interactions WHERE staged_mail_id ${inList(db)}`, s));
    removed.actions += await run(db, `DELETE FROM actions WHERE interaction_id ${inList(db)}`, interactions);
    removed.interactions += await run(db, `DELETE FROM interactions WHERE id ${inList(db)}`, interactions);
  }
  removed.stagedMails += await run(db, `DELETE FROM staged_mails WHERE id ${inList(db)}`, s);
}

/** Outgoing mail created before `before` (its subject and address are personal data too). */
export async function removeOutboundBefore(db: Db, before: string, removed: Removed): Promise<void> {
  removed.outboundMails += await run(db, `DELETE FROM outbound_mails WHERE created_at < ?`, before);
}

/** Removes one person's rows (after removeStaged for their mail). */
export async function removePerson(db: Db, email: string, p: PersonRows, removed: Removed): Promise<void> {
  const issues = json(p.issues);
  const interactions = json(p.interactions);
  removed.actions += await run(db, `DELETE FROM actions WHERE interaction_id ${inList(db)} OR issue_id ${inList(db)}`, interactions, issues);
  removed.interactions += await run(db, `DELETE FROM interactions WHERE id ${inList(db)}`, interactions);
  // Also notices and digests to the administrator whose rendered mail names the address.
  removed.outboundMails += await run(db, `DELETE FROM outbound_mails WHERE lower(to_address) = ? OR issue_id ${inList(db)} OR lower(mail) LIKE ? ESCAPE '\\'`, email, issues, contains(email));
  removed.issueHistory += await run(db, `DELETE FROM issue_history WHERE issue_id ${inList(db)}`, issues);
  // issue 13: bounce notes name the address our mail went to.
  await run(db, `DELETE FROM issue_notes WHERE issue_id ${inList(db)}`, issues);
  // Other issues linked to theirs (merged into, split from, converted to, parent, follow-up) keep
  // no pointer to a removed issue.
  for (const col of ["merged_into_id", "split_from_id", "converted_to_id", "parent_id", "follows_closed_id"]) {
    await run(db, `UPDATE issues SET ${col} = NULL WHERE ${col} ${inList(db)}`, issues);
  }
  removed.issues += await run(db, `DELETE FROM issues WHERE id ${inList(db)}`, issues);
  removed.userIdentifications += await run(db, `DELETE FROM user_identifications WHERE id ${inList(db)}`, json(p.identifications));
  removed.users += await run(db, `DELETE FROM users WHERE id ${inList(db)}`, json(p.users));
}
