// issue 13 point 4: who takes part in an issue and how each joined. The customer and those who
// wrote in follow from the issue and its actions; people copied on a customer's mail are rows of
// issue_participants.
import type { Db } from "./open.js";
import { stmt } from "./sql.js";

export interface Participant {
  email: string;
  joined: "customer" | "wrote in" | "cc";
  /** The staged mail they wrote or were copied on (null for the customer). */
  stagedMailId: number | null;
}

/** Everyone on an issue, lower-case and once each: the customer first, then by the mail that brought them in. */
export function issueParticipants(db: Db, issueId: number): Participant[] {
  const customer = stmt(
    db,
    `SELECT lower(coalesce(u.email, ui.email)) AS email FROM issues i JOIN user_identifications ui ON ui.id = i.user_identification_id
     LEFT JOIN users u ON u.id = ui.user_id WHERE i.id = ?`,
  ).get(issueId) as { email: string | null } | undefined;
  if (!customer) return [];
  const wrote = stmt(
    db,
    `SELECT lower(coalesce(u.email, ui.email)) AS email, min(it.staged_mail_id) AS stagedMailId, min(a.id) AS firstAction
     FROM actions a JOIN interactions it ON it.id = a.interaction_id JOIN user_identifications ui ON ui.id = it.user_identification_id
     LEFT JOIN users u ON u.id = ui.user_id WHERE a.issue_id = ? GROUP BY it.user_identification_id`,
  ).all(issueId) as { email: string | null; stagedMailId: number | null; firstAction: number }[];
  const copied = stmt(db, `SELECT email, staged_mail_id AS stagedMailId FROM issue_participants WHERE issue_id = ? ORDER BY id`).all(issueId) as {
    email: string;
    stagedMailId: number | null;
  }[];
  const joined: (Participant & { order: number })[] = [
    ...wrote.map((w) => ({ email: w.email ?? "", joined: "wrote in" as const, stagedMailId: w.stagedMailId, order: w.stagedMailId ?? 0 })),
    ...copied.map((c) => ({ email: c.email, joined: "cc" as const, stagedMailId: c.stagedMailId, order: c.stagedMailId ?? 0 })),
  ].sort((a, b) => a.order - b.order);
  const out: Participant[] = customer.email ? [{ email: customer.email, joined: "customer", stagedMailId: null }] : [];
  for (const p of joined) {
    if (p.email && !out.some((o) => o.email === p.email)) out.push({ email: p.email, joined: p.joined, stagedMailId: p.stagedMailId });
  }
  return out;
}

/** Lower-case addresses of everyone on an issue, its customer first (the participant guard, domain.md §3). */
export function participantEmails(db: Db, issueId: number): string[] {
  return issueParticipants(db, issueId).map((p) => p.email);
}

/** Adds people copied on a staged mail; someone already on the issue is left as they joined. */
export function addCcParticipants(db: Db, issueId: number, emails: string[], stagedMailId: number, at: string): void {
  const insert = stmt(db, `INSERT INTO issue_participants (issue_id, email, joined, staged_mail_id, added_at) VALUES (?, ?, 'cc', ?, ?) ON CONFLICT DO NOTHING`);
  for (const email of emails) insert.run(issueId, email, stagedMailId, at);
}
