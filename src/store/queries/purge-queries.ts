// Issue 14: retention and erasure. Which rows a purge removes, and the removal itself. Id sets are
// passed as one JSON array parameter (json_each), so a purge of many rows needs no temp table and
// no limit on bound variables. The callers run these inside one write transaction.
import type { Db } from "./open.js";
import { stmt } from "./sql.js";

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

const IN = `IN (SELECT value FROM json_each(?))`;
const ids = (db: Db, sql: string, ...params: unknown[]): number[] => (stmt(db, sql).all(...params) as { id: number }[]).map((r) => r.id);
const run = (db: Db, sql: string, ...params: unknown[]): number => stmt(db, sql).run(...params).changes;
const json = (list: number[]) => JSON.stringify(list);
/** `%text%` with LIKE's own wildcards taken literally (ESCAPE '\'). */
const contains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Staged mail received before `before` in one of `statuses`. */
export function stagedOlderThan(db: Db, before: string, statuses: string[]): number[] {
  return ids(db, `SELECT id FROM staged_mails WHERE received_at < ? AND status ${IN} ORDER BY id`, before, JSON.stringify(statuses));
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

export function rowsOfPerson(db: Db, email: string): PersonRows {
  const users = ids(db, `SELECT id FROM users WHERE lower(email) = ?`, email);
  const identifications = ids(db, `SELECT id FROM user_identifications WHERE lower(email) = ? OR user_id ${IN}`, email, json(users));
  const issues = ids(db, `SELECT id FROM issues WHERE user_identification_id ${IN}`, json(identifications));
  const interactions = ids(db, `SELECT id FROM interactions WHERE user_identification_id ${IN}`, json(identifications));
  // Their mail by its sender, by who it was identified as, and by the interactions recorded from
  // it; then redeliveries of that mail (the same bytes, staged again as duplicates).
  const direct = ids(
    db,
    `SELECT id FROM staged_mails WHERE lower(from_address) = ? OR lower(envelope_sender) = ? OR user_identification_id ${IN}
     UNION SELECT staged_mail_id AS id FROM interactions WHERE id ${IN} AND staged_mail_id IS NOT NULL`,
    email,
    email,
    json(identifications),
    json(interactions),
  );
  const staged = ids(db, `SELECT id FROM staged_mails WHERE id ${IN} OR duplicate_of ${IN} ORDER BY id`, json(direct), json(direct));
  return { users, identifications, issues, interactions, staged };
}

/** Spool and attachment files of these staged mails (candidates: removed only if nothing else refers to them). */
export function filesOfStaged(db: Db, staged: number[]): string[] {
  const rows = stmt(db, `SELECT raw_path AS p FROM staged_mails WHERE id ${IN} AND raw_path IS NOT NULL UNION SELECT stored_path AS p FROM attachments WHERE staged_mail_id ${IN}`).all(
    json(staged),
    json(staged),
  ) as { p: string }[];
  return rows.map((r) => r.p);
}

/** Of these paths, the ones no remaining staged mail or attachment refers to. */
export function unreferenced(db: Db, paths: string[]): string[] {
  const used = stmt(db, `SELECT 1 FROM staged_mails WHERE raw_path = ? UNION ALL SELECT 1 FROM attachments WHERE stored_path = ? LIMIT 1`);
  return [...new Set(paths)].filter((p) => !used.get(p, p));
}

/**
 * Removes staged mail with its status history, attachments and the outgoing mail it caused. The
 * conversation recorded from it (interactions and actions) is removed too unless `keepText`, in
 * which case it stays on its issues, no longer linked to the staged record.
 */
export function removeStaged(db: Db, staged: number[], keepText: boolean, removed: Removed): void {
  const s = json(staged);
  removed.attachments += run(db, `DELETE FROM attachments WHERE staged_mail_id ${IN}`, s);
  removed.statusHistory += run(db, `DELETE FROM staged_mail_status_history WHERE staged_mail_id ${IN}`, s);
  removed.outboundMails += run(db, `DELETE FROM outbound_mails WHERE staged_mail_id ${IN}`, s);
  if (keepText) run(db, `UPDATE interactions SET staged_mail_id = NULL WHERE staged_mail_id ${IN}`, s);
  else {
    const interactions = json(ids(db, `SELECT id FROM interactions WHERE staged_mail_id ${IN}`, s));
    removed.actions += run(db, `DELETE FROM actions WHERE interaction_id ${IN}`, interactions);
    removed.interactions += run(db, `DELETE FROM interactions WHERE id ${IN}`, interactions);
  }
  removed.stagedMails += run(db, `DELETE FROM staged_mails WHERE id ${IN}`, s);
}

/** Outgoing mail created before `before` (its subject and address are personal data too). */
export function removeOutboundBefore(db: Db, before: string, removed: Removed): void {
  removed.outboundMails += run(db, `DELETE FROM outbound_mails WHERE created_at < ?`, before);
}

/** Removes one person's rows (after removeStaged for their mail). */
export function removePerson(db: Db, email: string, p: PersonRows, removed: Removed): void {
  const issues = json(p.issues);
  const interactions = json(p.interactions);
  removed.actions += run(db, `DELETE FROM actions WHERE interaction_id ${IN} OR issue_id ${IN}`, interactions, issues);
  removed.interactions += run(db, `DELETE FROM interactions WHERE id ${IN}`, interactions);
  // Also notices and digests to the administrator whose rendered mail names the address.
  removed.outboundMails += run(db, `DELETE FROM outbound_mails WHERE lower(to_address) = ? OR issue_id ${IN} OR lower(mail) LIKE ? ESCAPE '\\'`, email, issues, contains(email));
  removed.issueHistory += run(db, `DELETE FROM issue_history WHERE issue_id ${IN}`, issues);
  // issue 13: bounce notes name the address our mail went to.
  run(db, `DELETE FROM issue_notes WHERE issue_id ${IN}`, issues);
  // Other issues linked to theirs (merged into, split from, converted to, parent, follow-up) keep
  // no pointer to a removed issue.
  for (const col of ["merged_into_id", "split_from_id", "converted_to_id", "parent_id", "follows_closed_id"]) {
    run(db, `UPDATE issues SET ${col} = NULL WHERE ${col} ${IN}`, issues);
  }
  removed.issues += run(db, `DELETE FROM issues WHERE id ${IN}`, issues);
  removed.userIdentifications += run(db, `DELETE FROM user_identifications WHERE id ${IN}`, json(p.identifications));
  removed.users += run(db, `DELETE FROM users WHERE id ${IN}`, json(p.users));
}
