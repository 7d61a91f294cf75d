// Issue 11.4: what the state rules (rules/deliver.ts) decide over, loaded first in one query: every
// issue linked to the matched one (merged into, converted to, split from and split into, parent
// chain), by one recursive query that both engines run. UNION (not UNION ALL) drops rows already
// found, so a corrupt chain (a cycle) ends the recursion instead of looping.
import type { Db } from "../store.js";
import { mapRow, selectSql } from "../sql.js";
import { issues } from "../tables.generated.js";
import type { Issue } from "./queries.js";

const LINKED = `WITH RECURSIVE linked(id) AS (
    SELECT CAST(? AS INTEGER)
    UNION
    SELECT n.id FROM linked l
      JOIN issues i ON i.id = l.id
      JOIN issues n ON n.id = i.merged_into_id OR n.id = i.converted_to_id OR n.id = i.split_from_id OR n.id = i.parent_id OR n.split_from_id = i.id
  )`;

/** The matched issue and every issue linked to it, by id. */
export async function linkGraph(db: Db, issueId: number): Promise<Map<number, Issue>> {
  const rows = await db.all(`${LINKED} ${selectSql(issues, `WHERE "id" IN (SELECT id FROM linked)`)}`, [issueId]);
  return new Map(rows.map((r) => mapRow<Issue>(issues, r)).map((r) => [r.id, r]));
}
