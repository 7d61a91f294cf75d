// Issue 10, point 12: one customer, one identity. Linking existing identifications to a user.
import type { Db } from "../store.js";


/** The earliest identification with this address that no user owns yet. */
export async function earliestUnlinkedIdentification(db: Db, email: string): Promise<{ id: number; email: string | null } | undefined> {
  return (await db.get(`SELECT id, email FROM user_identifications WHERE email = ? AND user_id IS NULL ORDER BY id LIMIT 1`, [email.toLowerCase()])) as
    | { id: number; email: string | null }
    | undefined;
}

/** Links an identification to a user; false when it already belongs to someone. */
export async function linkIdentification(db: Db, identificationId: number, userId: number): Promise<boolean> {
  return (await db.run(`UPDATE user_identifications SET user_id = ? WHERE id = ? AND user_id IS NULL`, [userId, identificationId])).changes === 1;
}
