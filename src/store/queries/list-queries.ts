// Issue 14: the admin lists with --limit, --since, --from and --search, each with the number of rows
// that match (so the command can say "N of M shown"). Searches are substring matches (LIKE with
// the wildcards escaped), case-insensitive for ASCII.
import type { Db } from "../store.js";
import type { Account, Issue, OutboundMail, StagedSummary, User } from "./queries.js";
import { selectSql } from "../sql.js";
import { accounts, issues, outboundMails, users } from "../tables.generated.js";

export interface ListFilter {
  limit: number;
  /** ISO time: rows at or after it. */
  since?: string;
  /** Substring of the sender (staged mail), the customer (issues), the correspondent (outbox). */
  from?: string;
  /** Substring of subject / text (see each list). */
  search?: string;
}

export interface Listed<T> {
  rows: T[];
  /** Rows matching the filter, before --limit. */
  total: number;
}

/** `%text%` with LIKE's own wildcards taken literally (ESCAPE '\'). */
const contains = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

class Where {
  parts: string[] = [];
  params: unknown[] = [];
  add(sql: string, ...params: unknown[]): this {
    this.parts.push(sql);
    this.params.push(...params);
    return this;
  }
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(" AND ")}` : "";
  }
}

async function listed<T>(db: Db, from: string, select: string, where: Where, order: string, limit: number): Promise<Listed<T>> {
  const total = ((await db.get(`SELECT count(*) AS n FROM ${from} ${where.sql}`, [...where.params])) as { n: number }).n;
  const rows = (await db.all(`${select} ${where.sql} ${order} LIMIT ?`, [...where.params, limit])) as T[];
  return { rows, total };
}

const STAGED_SUMMARY = `SELECT id, received_at AS "receivedAt", updated_at AS "updatedAt", status, from_address AS "fromAddress", subject, reason, error,
  duplicate_of AS "duplicateOf", raw_size AS "rawSize", source FROM staged_mails`;

/** Staged mail, newest first. --search looks in the subject and the text (on the record or its actions). */
export async function listStagedFiltered(db: Db, f: ListFilter & { status?: string }): Promise<Listed<StagedSummary>> {
  const w = new Where();
  if (f.status) w.add(`status = ?`, f.status);
  if (f.since) w.add(`received_at >= ?`, f.since);
  if (f.from) w.add(`(lower(from_address) LIKE ? ESCAPE '\\' OR lower(from_name) LIKE ? ESCAPE '\\')`, contains(f.from), contains(f.from));
  // A complete record's text lives in its actions (issue 9.3); the others keep it on the record.
  if (f.search)
    w.add(
      `(lower(subject) LIKE ? ESCAPE '\\' OR lower(text_body) LIKE ? ESCAPE '\\' OR id IN (SELECT i.staged_mail_id FROM interactions i JOIN actions a ON a.interaction_id = i.id WHERE lower(a.details) LIKE ? ESCAPE '\\'))`,
      contains(f.search),
      contains(f.search),
      contains(f.search),
    );
  return await listed(db, "staged_mails", STAGED_SUMMARY, w, "ORDER BY id DESC", f.limit);
}

const CUSTOMER_EMAIL = `(SELECT lower(coalesce(u.email, i.email)) FROM user_identifications i LEFT JOIN users u ON u.id = i.user_id WHERE i.id = issues.user_identification_id)`;

/** Issues, newest first. --since: updated since; --from: the customer's address; --search: subject or reference. */
export async function listIssuesFiltered(db: Db, f: ListFilter & { state?: string }): Promise<Listed<Issue & { customerEmail: string | null }>> {
  const w = new Where();
  if (f.state) w.add(`state = ?`, f.state);
  if (f.since) w.add(`updated_at >= ?`, f.since);
  if (f.from) w.add(`${CUSTOMER_EMAIL} LIKE ? ESCAPE '\\'`, contains(f.from));
  if (f.search) w.add(`(lower(subject) LIKE ? ESCAPE '\\' OR lower(reference) LIKE ? ESCAPE '\\')`, contains(f.search), contains(f.search));
  const out = await listed<Record<string, unknown>>(db, "issues", selectSql(issues, "").replace(/ FROM "issues" $/, `, ${CUSTOMER_EMAIL} AS "customerEmail" FROM "issues"`), w, "ORDER BY id DESC", f.limit);
  // Rows come straight from SQL: new_info is 0/1 there.
  return { total: out.total, rows: out.rows.map((r) => ({ ...r, newInfo: r.newInfo === 1 })) as (Issue & { customerEmail: string | null })[] };
}

/** Outgoing mail, newest first. --from: sent to that address, or caused by mail from it; --search: subject. */
export async function listOutboundFiltered(db: Db, f: ListFilter): Promise<Listed<OutboundMail>> {
  const w = new Where();
  if (f.since) w.add(`created_at >= ?`, f.since);
  if (f.from)
    w.add(
      `(lower(to_address) LIKE ? ESCAPE '\\' OR staged_mail_id IN (SELECT id FROM staged_mails WHERE lower(from_address) LIKE ? ESCAPE '\\'))`,
      contains(f.from),
      contains(f.from),
    );
  if (f.search) w.add(`lower(subject) LIKE ? ESCAPE '\\'`, contains(f.search));
  return await listed(db, "outbound_mails", selectSql(outboundMails, ""), w, "ORDER BY id DESC", f.limit);
}

export async function listUsers(db: Db): Promise<(User & { accountName: string | null; identifications: number })[]> {
  return (await db.all(`${selectSql(users, "").replace(/ FROM "users" $/, "")}, (SELECT name FROM accounts a WHERE a.id = users.account_id) AS "accountName",
     (SELECT count(*) FROM user_identifications i WHERE i.user_id = users.id) AS identifications FROM users ORDER BY id`)) as (User & { accountName: string | null; identifications: number })[];
}

export async function listAccounts(db: Db): Promise<(Account & { users: number })[]> {
  return (await db.all(`${selectSql(accounts, "").replace(/ FROM "accounts" $/, "")}, (SELECT count(*) FROM users u WHERE u.account_id = accounts.id) AS users FROM accounts ORDER BY id`)) as (Account & {
    users: number;
  })[];
}
