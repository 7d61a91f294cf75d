// Issue 10, point 12: one customer, one identity. Linking existing identifications to a user.
import type { Db } from "./open.js";
import { stmt } from "./sql.js";

/** The earliest identification with this address that no user owns yet. */
export function earliestUnlinkedIdentification(db: Db, email: string): { id: number; email: string | null } | undefined {
  return stmt(db, `SELECT id, email FROM user_identifications WHERE email = ? AND user_id IS NULL ORDER BY id LIMIT 1`).get(email.toLowerCase()) as
    | { id: number; email: string | null }
    | undefined;
}

/** Links an identification to a user; false when it already belongs to someone. */
export function linkIdentification(db: Db, identificationId: number, userId: number): boolean {
  return stmt(db, `UPDATE user_identifications SET user_id = ? WHERE id = ? AND user_id IS NULL`).run(userId, identificationId).changes === 1;
}
