// Issue 14: what `ingest-mail doctor` counts, in a database it opened read-only. count() comes back as
// a number from SQLite and as text (bigint) from PostgreSQL: Number() on both.
import type { Db } from "../store.js";

const count = async (db: Db, sql: string, params: unknown[] = []): Promise<number> => Number((await db.get<{ n: unknown }>(sql, params))?.n ?? 0);

/** The signing secret kept in the database (issue 10): 1 when it is there and not empty. */
export function countKeptAddressSecrets(db: Db): Promise<number> {
  return count(db, `SELECT count(*) AS "n" FROM settings WHERE key = 'address_secret' AND value <> ''`);
}

/** Staged mail still to be processed, untouched since before `before` (ISO time): left by a crash. */
export function countStuckStaged(db: Db, before: string): Promise<number> {
  return count(db, `SELECT count(*) AS "n" FROM staged_mails WHERE status IN ('new', 'in_process', 'workflow') AND updated_at < ?`, [before]);
}

export function countStagedInError(db: Db): Promise<number> {
  return count(db, `SELECT count(*) AS "n" FROM staged_mails WHERE status = 'error'`);
}

/** Failed outgoing mail, and how many of it reached `maxAttempts` (only `outbox retry ID` sends those). */
export async function countFailedOutbound(db: Db, maxAttempts: number): Promise<{ failed: number; gaveUp: number }> {
  return {
    failed: await count(db, `SELECT count(*) AS "n" FROM outbound_mails WHERE status = 'failed'`),
    gaveUp: await count(db, `SELECT count(*) AS "n" FROM outbound_mails WHERE status = 'failed' AND attempts >= ?`, [maxAttempts]),
  };
}

/** The first `limit` ids of failed outgoing mail past `maxAttempts`: what `outbox retry ID` must name. */
export async function failedPastLimitIds(db: Db, maxAttempts: number, limit: number): Promise<number[]> {
  const rows = await db.all<{ id: unknown }>(`SELECT id AS "id" FROM outbound_mails WHERE status = 'failed' AND attempts >= ? ORDER BY id LIMIT ?`, [maxAttempts, limit]);
  return rows.map((r) => Number(r.id));
}
