// issue 13 point 4: who takes part in an issue and how each joined. The customer and those who
// wrote in follow from the issue and its actions; people copied on a customer's mail are rows of
// issue_participants.
import type { Db } from "../store.js";


export interface Participant {
  email: string;
  joined: "customer" | "wrote in" | "cc";
  /** The staged mail they wrote or were copied on (null for the customer). */
  stagedMailId: number | null;
}

/** Everyone on an issue, lower-case and once each: the customer first, then by the mail that brought them in. */
export async function issueParticipants(db: Db, issueId: number): Promise<Participant[]> {
  const customer = (await db.get(`SELECT lower(coalesce(u.email, ui.email)) AS email FROM issues i JOIN user_identifications ui ON ui.id = i.user_identification_id
     LEFT JOIN users u ON u.id = ui.user_id WHERE i.id = ?`, [issueId])) as { email: string | null } | undefined;
  if (!customer) return [];
  const wrote = (await db.all(`SELECT lower(coalesce(u.email, ui.email)) AS email, min(it.staged_mail_id) AS "stagedMailId", min(a.id) AS "firstAction"
     FROM actions a JOIN interactions it ON it.id = a.interaction_id JOIN user_identifications ui ON ui.id = it.user_identification_id
     LEFT JOIN users u ON u.id = ui.user_id WHERE a.issue_id = ? GROUP BY ui.id, u.id`, [issueId])) as { email: string | null; stagedMailId: number | null; firstAction: number }[];
  const copied = (await db.all(`SELECT email, staged_mail_id AS "stagedMailId" FROM issue_participants WHERE issue_id = ? ORDER BY id`, [issueId])) as {
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
export async function participantEmails(db: Db, issueId: number): Promise<string[]> {
  return (await issueParticipants(db, issueId)).map((p) => p.email);
}

/** Adds people copied on a staged mail; someone already on the issue is left as they joined. */
export async function addCcParticipants(db: Db, issueId: number, emails: string[], stagedMailId: number, at: string): Promise<void> {
  for (const email of emails)
    await db.run(`INSERT INTO issue_participants (issue_id, email, joined, staged_mail_id, added_at) VALUES (?, ?, 'cc', ?, ?) ON CONFLICT DO NOTHING`, [issueId, email, stagedMailId, at]);
}
