// Issue 14: who wrote each action of an issue, for `issue show`'s conversation (sender, time, text).
import type { Db } from "../store.js";


export interface ActionSender {
  actionId: number;
  /** The writer's address: the registered user's, else the identification's. */
  from: string | null;
  /** First names and last name, as identified (domain.md §2). */
  fromName: string | null;
  /** The interaction's date: the mail's Date header, else when it was received. */
  date: string;
}

export async function sendersOfActions(db: Db, issueId: number): Promise<ActionSender[]> {
  return (await db.all(`SELECT a.id AS "actionId", coalesce(u.email, ui.email) AS "from",
       nullif(trim(coalesce(coalesce(u.first_names, ui.first_names), '') || ' ' || coalesce(coalesce(u.last_name, ui.last_name), '')), '') AS "fromName",
       i.interaction_date AS date
     FROM actions a JOIN interactions i ON i.id = a.interaction_id
     LEFT JOIN user_identifications ui ON ui.id = i.user_identification_id LEFT JOIN users u ON u.id = ui.user_id
     WHERE a.issue_id = ? ORDER BY a.id`, [issueId])) as ActionSender[];
}
