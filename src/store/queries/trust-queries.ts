// Issue 10: the queries of the trust rules (domain.md §9): the per-database signing secret, the
// confirmation limits counted in the outbox, and the flood count.
import type { Db } from "../store.js";


/** A setting's value, creating it with make() if absent (INSERT OR IGNORE: two first uses agree). */
export async function ensureSetting(db: Db, key: string, make: () => string): Promise<string> {
  const read = async () => ((await db.get(`SELECT value FROM settings WHERE key = ?`, [key])) as { value: string } | undefined)?.value;
  const have = await read();
  if (have !== undefined) return have;
  await db.run(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, [key, make()]);
  return (await read())!;
}

// Confirmations that were sent or attempted count; skipped ones do not.
const COUNTED = `kind = 'confirmation' AND status <> 'skipped' AND created_at >= ?`;

/** Confirmations to one normalised address since a time (rows older than issue 10 by their address). */
export async function countConfirmationsToKey(db: Db, key: string, since: string): Promise<number> {
  return ((await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE (to_key = ? OR (to_key IS NULL AND to_address = ?)) AND ${COUNTED}`, [key, key, since])) as { n: number }).n;
}

export async function countConfirmationsToDomain(db: Db, domain: string, since: string): Promise<number> {
  return ((await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE to_domain = ? AND ${COUNTED}`, [domain, since])) as { n: number }).n;
}

export async function countConfirmationsSinceAll(db: Db, since: string): Promise<number> {
  return ((await db.get(`SELECT count(*) AS n FROM outbound_mails WHERE ${COUNTED}`, [since])) as { n: number }).n;
}

/**
 * New issues counted by the flood limit for one identification in [since, until]: by their flood
 * time (the mail's own Date for imported mail), leaving out those opened by mail our MTA found
 * unauthenticated unless `includeUnauthenticated` (a forger cannot fill the real sender's quota).
 */
export async function countFloodIssues(db: Db, userIdentificationId: number, since: string, until: string, includeUnauthenticated: boolean): Promise<number> {
  return (
    (await db.get(`SELECT count(*) AS n FROM issues WHERE user_identification_id = ? AND coalesce(flood_at, open_date) >= ? AND coalesce(flood_at, open_date) <= ?${includeUnauthenticated ? "" : " AND unauthenticated = 0"}`, [userIdentificationId, since, until])) as { n: number }
  ).n;
}

