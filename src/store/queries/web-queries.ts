// The web console's reads (issue 15): paged, filtered lists that stay fast at a million staged
// mails, and the joins one page needs. Writes go through the pipeline, never from here.
import type { Db, Engine } from "../store.js";
import type { Issue, OutboundMail } from "./queries.js";


import { RESUBMITTABLE } from "../../domain/statuses.js";

export { RESUBMITTABLE, STAGED_STATUSES } from "../../domain/statuses.js";

export interface StagedFilter {
  status?: string;
  /** An exact address (the sender index) or, without an @, a part of the address or name. */
  sender?: string;
  subject?: string;
  messageId?: string;
  /** Free text over subject, sender, Message-ID and body. */
  q?: string;
  /** YYYY-MM-DD, inclusive, on the time the mail was staged (UTC). */
  since?: string;
  until?: string;
}

export interface StagedRow {
  id: number;
  receivedAt: string;
  updatedAt: string;
  status: string;
  fromAddress: string | null;
  fromName: string | null;
  subject: string | null;
  reason: string | null;
  error: string | null;
  duplicateOf: number | null;
  rawSize: number;
}

export interface StagedPage {
  rows: StagedRow[];
  /** Keyset cursor for the next (older) page: rows with id < before. Null at the end. */
  before: number | null;
  /** The id the scan reached when a substring search stopped at its time budget (no full page yet). */
  scannedDownTo: number | null;
}

const COLUMNS = `id, received_at AS "receivedAt", updated_at AS "updatedAt", status, from_address AS "fromAddress", from_name AS "fromName",
  subject, reason, error, duplicate_of AS "duplicateOf", raw_size AS "rawSize"`;

/** LIKE pattern for "contains", with the wildcards in the user's text taken literally. */
const contains = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

interface Where {
  sql: string[];
  params: unknown[];
  /** Needs a row-by-row substring test: scanned in time-bounded id ranges. */
  scans: boolean;
}

function where(f: StagedFilter, engine: Engine): Where {
  // SQLite's LIKE ignores ASCII case; PostgreSQL's needs ILIKE for the same answer.
  const L = engine === "postgres" ? "ILIKE" : "LIKE";
  const w: Where = { sql: [], params: [], scans: false };
  const add = (sql: string, ...params: unknown[]) => (w.sql.push(sql), w.params.push(...params));
  if (f.status) add(`status = ?`, f.status);
  // Stored as the header has it, in angle brackets; found with or without them.
  if (f.messageId) add(`message_id = ?`, `<${f.messageId.trim().replace(/^<|>$/g, "")}>`);
  if (f.sender?.includes("@")) add(`from_address = ?`, f.sender.trim().toLowerCase());
  else if (f.sender) (add(`(from_address ${L} ? ESCAPE '\\' OR from_name ${L} ? ESCAPE '\\')`, contains(f.sender), contains(f.sender)), (w.scans = true));
  if (f.subject) (add(`subject ${L} ? ESCAPE '\\'`, contains(f.subject)), (w.scans = true));
  if (f.q) {
    const p = contains(f.q);
    // Issue 9.3: a processed mail's text lives on its actions (one per issue, the same text), no
    // longer on the record; the first action of its interaction stands for it.
    add(
      `(subject ${L} ? ESCAPE '\\' OR from_address ${L} ? ESCAPE '\\' OR from_name ${L} ? ESCAPE '\\' OR message_id ${L} ? ESCAPE '\\' OR text_body ${L} ? ESCAPE '\\'
        OR (SELECT a.details FROM actions a WHERE a.interaction_id = staged_mails.interaction_id ORDER BY a.id LIMIT 1) ${L} ? ESCAPE '\\')`,
      p, p, p, p, p, p,
    );
    w.scans = true;
  }
  return w;
}

/**
 * The id range a date filter allows. Ids grow with the staging time, so the range is found on the
 * received_at index and the page is still read in id order; the exact time test stays in the
 * query, and the slack covers concurrent stagers that committed a few ids out of time order.
 */
async function idRange(db: Db, f: StagedFilter): Promise<{ lo: number; hi: number }> {
  const SLACK = 1000;
  let lo = 0;
  let hi = MAX_ID;
  if (f.since) {
    const r = (await db.get(`SELECT id FROM staged_mails WHERE received_at >= ? ORDER BY received_at LIMIT 1`, [f.since])) as { id: number } | undefined;
    lo = r ? Math.max(0, r.id - SLACK) : MAX_ID;
  }
  if (f.until) {
    const r = (await db.get(`SELECT id FROM staged_mails WHERE received_at >= ? ORDER BY received_at LIMIT 1`, [nextDay(f.until)])) as { id: number } | undefined;
    if (r) hi = r.id + SLACK;
  }
  return { lo, hi };
}

/**
 * "No upper bound" for an id: the largest PostgreSQL integer (the id columns' type there); a larger
 * bound (Number.MAX_SAFE_INTEGER) is refused there as out of range (22003).
 */
const MAX_ID = 2_147_483_647;
/** The keyset cursor as a bound both engines take (a `before` from a URL may be any number). */
const below = (before: number | undefined) => Math.min(before ?? MAX_ID, MAX_ID);

const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

export interface PageOptions {
  limit: number;
  before?: number;
  /** Substring scans stop after this long with what they found (and say where they stopped). */
  budgetMs?: number;
  /** Ids per scanned range. */
  chunk?: number;
  clock?: () => number;
}

/** Staged mail, newest first, one keyset page. */
export async function stagedPage(db: Db, f: StagedFilter, o: PageOptions): Promise<StagedPage> {
  const w = where(f, db.engine);
  if (f.since) (w.sql.push(`received_at >= ?`), w.params.push(f.since));
  if (f.until) (w.sql.push(`received_at < ?`), w.params.push(nextDay(f.until)));
  const range = await idRange(db, f);
  let hi = Math.min(range.hi, below(o.before));
  const cond = w.sql.length ? ` AND ${w.sql.join(" AND ")}` : "";
  const take = o.limit + 1;
  if (!w.scans) {
    // Every condition has an index whose entries are in id order: one indexed range read.
    const rows = (await db.all(`SELECT ${COLUMNS} FROM staged_mails WHERE id < ? AND id >= ?${cond} ORDER BY id DESC LIMIT ?`, [hi, range.lo, ...w.params, take])) as StagedRow[];
    return page(rows, o.limit, null);
  }
  // Substring tests read every row they pass: scan ranges of ids, newest first, until a page is full
  // or the time budget is spent, and say how far the scan got so the next request carries on.
  const clock = o.clock ?? (() => performance.now());
  const start = clock();
  const chunk = o.chunk ?? 20_000;
  const budget = o.budgetMs ?? 100;
  const top = (await db.get(`SELECT max(id) AS m FROM staged_mails`)) as { m: number | null };
  hi = Math.min(hi, (top.m ?? 0) + 1);
  const found: StagedRow[] = [];
  while (hi > range.lo && found.length < take) {
    const lo = Math.max(range.lo, hi - chunk);
    found.push(...((await db.all(`SELECT ${COLUMNS} FROM staged_mails WHERE id < ? AND id >= ?${cond} ORDER BY id DESC LIMIT ?`, [hi, lo, ...w.params, take - found.length])) as StagedRow[]));
    hi = lo;
    if (clock() - start > budget) break;
  }
  if (found.length >= take || hi <= range.lo) return page(found, o.limit, null);
  return { rows: found, before: hi, scannedDownTo: hi };
}

function page(rows: StagedRow[], limit: number, scannedDownTo: number | null): StagedPage {
  const more = rows.length > limit;
  const shown = rows.slice(0, limit);
  return { rows: shown, before: more ? shown[shown.length - 1].id : null, scannedDownTo };
}

/**
 * Staged mail per status, and the last status-history id those counts include: a grouped count over
 * the status index, read in one snapshot with the history's end (the console then keeps the counts
 * up to date from the history alone, statusChangesSince).
 */
export async function stagedCounts(db: Db): Promise<{ counts: Record<string, number>; historyId: number }> {
  return db.read(async (db) => {
    // The status index, not a scan of the table: SQLite's planner needs telling (INDEXED BY).
    const byStatus = db.engine === "sqlite" ? "INDEXED BY staged_mails_status_idx" : "";
    const rows = (await db.all(`SELECT status, count(*) AS n FROM staged_mails ${byStatus} GROUP BY status`)) as { status: string; n: number }[];
    const last = (await db.get(`SELECT coalesce(max(id), 0) AS id FROM staged_mail_status_history`)) as { id: number };
    return { counts: Object.fromEntries(rows.map((r) => [r.status, r.n])), historyId: last.id };
  });
}

/**
 * Every status change after a history id, with the status the mail had before it (null for a newly
 * staged mail): each one moves one mail from one count to another. Every status change writes a
 * history row (queries.ts insertStaged, setStagedStatus; domain.md §1.3).
 */
export async function statusChangesSince(db: Db, historyId: number, limit: number): Promise<{ id: number; status: string; previous: string | null }[]> {
  return (await db.all(`SELECT h.id, h.status, (SELECT p.status FROM staged_mail_status_history p WHERE p.staged_mail_id = h.staged_mail_id AND p.id < h.id ORDER BY p.id DESC LIMIT 1) AS previous
     FROM staged_mail_status_history h WHERE h.id > ? ORDER BY h.id LIMIT ?`, [historyId, limit])) as { id: number; status: string; previous: string | null }[];
}

/** Ids of resubmittable records matching a filter (bulk resubmit), oldest first, at most `limit`. */
export async function resubmittableIds(db: Db, f: StagedFilter, limit: number): Promise<number[]> {
  const statuses = f.status ? [f.status].filter((s) => (RESUBMITTABLE as readonly string[]).includes(s)) : [...RESUBMITTABLE];
  if (!statuses.length) return [];
  const ids: number[] = [];
  for (const status of statuses) {
    let before: number | undefined;
    // Page through the filter (substring filters included) without a time budget: an explicit action.
    for (;;) {
      const p = await stagedPage(db, { ...f, status }, { limit: 500, before, budgetMs: Number.POSITIVE_INFINITY });
      ids.push(...p.rows.map((r) => r.id));
      if (p.before === null || ids.length >= limit) break;
      before = p.before;
    }
  }
  return ids.sort((a, b) => a - b).slice(0, limit);
}

/** The raw message: bytes in the database, or the path of its spool file. */
export async function rawOf(db: Db, id: number): Promise<{ raw: Buffer | null; rawPath: string | null; messageId: string | null } | undefined> {
  return (await db.get(`SELECT raw, raw_path AS "rawPath", message_id AS "messageId" FROM staged_mails WHERE id = ?`, [id])) as
    | { raw: Buffer | null; rawPath: string | null; messageId: string | null }
    | undefined;
}

export async function htmlBodyOf(db: Db, id: number): Promise<string | null | undefined> {
  const r = (await db.get(`SELECT html_body AS html FROM staged_mails WHERE id = ?`, [id])) as { html: string | null } | undefined;
  return r ? r.html : undefined;
}

export interface AttachmentFile {
  id: number;
  filename: string | null;
  contentType: string | null;
  size: number;
  storedPath: string;
}

export async function attachmentFile(db: Db, stagedMailId: number, id: number): Promise<AttachmentFile | undefined> {
  return (await db.get(`SELECT id, filename, content_type AS "contentType", size, stored_path AS "storedPath" FROM attachments WHERE id = ? AND staged_mail_id = ?`, [id, stagedMailId])) as
    | AttachmentFile
    | undefined;
}

// ---- issues ----

export interface IssueFilter {
  state?: string;
  kind?: string;
  queue?: string;
  assignee?: string;
  /** Issues of one user identification (the identification link of a staged mail). */
  customer?: number;
}

export interface IssueRow extends Issue {
  customerEmail: string | null;
}

export async function issuesPage(db: Db, f: IssueFilter, o: { limit: number; before?: number }): Promise<{ rows: IssueRow[]; before: number | null }> {
  const sql: string[] = ["i.id < ?"];
  const params: unknown[] = [below(o.before)];
  if (f.state) (sql.push("i.state = ?"), params.push(f.state));
  if (f.kind) (sql.push("i.kind = ?"), params.push(f.kind));
  if (f.queue) (sql.push("i.queue = ?"), params.push(f.queue));
  if (f.assignee) (sql.push("i.assignee = ?"), params.push(f.assignee));
  if (f.customer) (sql.push("i.user_identification_id = ?"), params.push(f.customer));
  const rows = (await db.all(`SELECT ${ISSUE_COLUMNS}, coalesce(u.email, ui.email) AS "customerEmail" FROM issues i
     LEFT JOIN user_identifications ui ON ui.id = i.user_identification_id LEFT JOIN users u ON u.id = ui.user_id
     WHERE ${sql.join(" AND ")} ORDER BY i.id DESC LIMIT ?`, [...params, o.limit + 1])) as IssueRow[];
  const more = rows.length > o.limit;
  const shown = rows.slice(0, o.limit).map(issueBooleans);
  return { rows: shown, before: more ? shown[shown.length - 1].id : null };
}

const ISSUE_COLUMNS = `i.id, i.guid, i.reference, i.kind, i.state, i.wait_type AS "waitType", i.parent_id AS "parentId", i.queue, i.assignee, i.new_info AS "newInfo",
  i.merged_into_id AS "mergedIntoId", i.split_from_id AS "splitFromId", i.converted_to_id AS "convertedToId", i.follows_closed_id AS "followsClosedId",
  i.user_identification_id AS "userIdentificationId", i.subject, i.recipient, i.open_date AS "openDate", i.updated_at AS "updatedAt", i.closed_date AS "closedDate"`;

const issueBooleans = <T extends { newInfo: unknown }>(r: T): T => ({ ...r, newInfo: !!r.newInfo });

export interface IssueRef {
  id: number;
  reference: string | null;
  kind: string;
  state: string;
  subject: string | null;
}

/** One issue as a link shows it. */
export async function issueRef(db: Db, id: number): Promise<IssueRef | undefined> {
  return (await db.get(`SELECT id, reference, kind, state, subject FROM issues WHERE id = ?`, [id])) as IssueRef | undefined;
}

/** Every link of an issue, both directions (domain.md §4: parent chain, split, merged, converted). */
export async function issueLinks(db: Db, issue: Issue) {
  const one = async (id: number | null) => (id ? ((await issueRef(db, id)) ?? null) : null);
  const many = async (col: string) => (await db.all(`SELECT id, reference, kind, state, subject FROM issues WHERE ${col} = ? ORDER BY id`, [issue.id])) as IssueRef[];
  return {
    parent: await one(issue.parentId),
    children: await many("parent_id"),
    splitFrom: await one(issue.splitFromId),
    splitInto: await many("split_from_id"),
    mergedInto: await one(issue.mergedIntoId),
    mergedFrom: await many("merged_into_id"),
    convertedTo: await one(issue.convertedToId),
    convertedFrom: await many("converted_to_id"),
    follows: await one(issue.followsClosedId),
    followedBy: await many("follows_closed_id"),
  };
}

export interface ConversationEntry {
  actionId: number;
  issueId: number;
  issueReference: string | null;
  createdAt: string;
  details: string;
  /** issue 13: the new text of the mail (null on actions recorded before it was kept). */
  replyText: string | null;
  interactionId: number;
  stagedMailId: number | null;
  subject: string | null;
  messageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  userIdentificationId: number;
  senderEmail: string | null;
  senderFirstNames: string | null;
  senderLastName: string | null;
}

/**
 * The whole conversation of an issue, oldest first: its own actions and those of the tickets merged
 * into it (at any depth), each with who wrote it. (The CAST types the parameter: PostgreSQL takes a
 * bare one for text, and text = integer has no operator.)
 */
export async function conversation(db: Db, issueId: number): Promise<ConversationEntry[]> {
  return (await db.all(`WITH RECURSIVE merged(id) AS (SELECT CAST(? AS INTEGER) UNION SELECT i.id FROM issues i JOIN merged m ON i.merged_into_id = m.id)
     SELECT a.id AS "actionId", a.issue_id AS "issueId", iss.reference AS "issueReference", a.created_at AS "createdAt", a.details, a.reply_text AS "replyText",
       a.interaction_id AS "interactionId", it.staged_mail_id AS "stagedMailId", s.subject, s.message_id AS "messageId",
       s.from_address AS "fromAddress", s.from_name AS "fromName", it.user_identification_id AS "userIdentificationId",
       coalesce(u.email, ui.email) AS "senderEmail", coalesce(ui.first_names, u.first_names) AS "senderFirstNames", coalesce(ui.last_name, u.last_name) AS "senderLastName"
     FROM actions a JOIN merged m ON m.id = a.issue_id JOIN issues iss ON iss.id = a.issue_id
     JOIN interactions it ON it.id = a.interaction_id
     LEFT JOIN staged_mails s ON s.id = it.staged_mail_id
     LEFT JOIN user_identifications ui ON ui.id = it.user_identification_id LEFT JOIN users u ON u.id = ui.user_id
     ORDER BY a.created_at, a.id LIMIT 2000`, [issueId])) as ConversationEntry[];
}

export async function outboundOfIssue(db: Db, issueId: number): Promise<OutboundMail[]> {
  return (await db.all(`SELECT id, kind, issue_id AS "issueId", staged_mail_id AS "stagedMailId", to_address AS "toAddress", subject, message_id AS "messageId", status, error, created_at AS "createdAt" FROM outbound_mails WHERE issue_id = ? ORDER BY id`, [issueId])) as OutboundMail[];
}

/** The status of one outbound mail (the console retries failed ones only). */
export async function outboundStatus(db: Db, id: number): Promise<string | undefined> {
  return ((await db.get(`SELECT status FROM outbound_mails WHERE id = ?`, [id])) as { status: string } | undefined)?.status;
}

export async function outboundPage(db: Db, f: { status?: string }, o: { limit: number; before?: number }): Promise<{ rows: OutboundMail[]; before: number | null; failed: number }> {
  const rows = (await db.all(`SELECT id, kind, issue_id AS "issueId", staged_mail_id AS "stagedMailId", to_address AS "toAddress", subject, message_id AS "messageId", status, error, created_at AS "createdAt"
     FROM outbound_mails WHERE id < ? ${f.status ? "AND status = ?" : ""} ORDER BY id DESC LIMIT ?`, [...[below(o.before), ...(f.status ? [f.status] : []), o.limit + 1]])) as OutboundMail[];
  const failed = ((await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE status = 'failed'`)) as { n: number }).n;
  const more = rows.length > o.limit;
  const shown = rows.slice(0, o.limit);
  return { rows: shown, before: more ? shown[shown.length - 1].id : null, failed };
}

export async function identificationView(db: Db, id: number) {
  return (await db.get(`SELECT ui.id, ui.email, ui.first_names AS "firstNames", ui.last_name AS "lastName", ui.date_added AS "dateAdded", ui.user_id AS "userId",
       u.email AS "userEmail", a.name AS "accountName", a.support_level AS "supportLevel"
     FROM user_identifications ui LEFT JOIN users u ON u.id = ui.user_id LEFT JOIN accounts a ON a.id = u.account_id WHERE ui.id = ?`, [id])) as
    | { id: number; email: string | null; firstNames: string | null; lastName: string | null; dateAdded: string; userId: number | null; userEmail: string | null; accountName: string | null; supportLevel: string | null }
    | undefined;
}

export async function interactionView(db: Db, id: number) {
  return (await db.get(`SELECT id, user_identification_id AS "userIdentificationId", staged_mail_id AS "stagedMailId", interaction_date AS "interactionDate", originator, type FROM interactions WHERE id = ?`, [id])) as
    | { id: number; userIdentificationId: number; stagedMailId: number | null; interactionDate: string; originator: string; type: string }
    | undefined;
}
