// Issue 11.4: what the state rules (rules/deliver.ts) decide over, loaded first in one query: every
// issue linked to the matched one (merged into, converted to, split from and split into, parent
// chain), by one recursive query that both engines run. UNION (not UNION ALL) drops rows already
// found, so a corrupt chain (a cycle) ends the recursion instead of looping.
import type { Db } from "../store.js";
import { mapRow, selectSql } from "../sql.js";
import { issues } from "../tables.generated.js";
import type { Issue } from "./queries.js";

const LINKED = `WITH RECURSIVE linked(linked_id) AS (
    SELECT CAST(? AS INTEGER)
    UNION
    SELECT n.id FROM linked l
      JOIN issues i ON i.id = l.linked_id
      JOIN issues n ON n.id = i.merged_into_id OR n.id = i.converted_to_id OR n.id = i.split_from_id OR n.id = i.parent_id OR n.split_from_id = i.id
  )`;

/**
 * The matched issue and every issue linked to it, by id. A join (UNION left each id once), not
 * `WHERE id IN (SELECT … FROM linked)`: SQLite filled two more temporary tables for the IN form,
 * about 100 us a matched mail against 10 for the join (20,000 issues, 2026-12-07).
 */
export async function linkGraph(db: Db, issueId: number): Promise<Map<number, Issue>> {
  const rows = await db.all(linkGraphSql(), [issueId]);
  return new Map(rows.map((r) => mapRow<Issue>(issues, r)).map((r) => [r.id, r]));
}

/** linkGraph's statement (one parameter: the issue's id), for tests of its query plan. */
export function linkGraphSql(): string {
  return `${LINKED} ${selectSql(issues, `JOIN linked ON linked.linked_id = "issues"."id"`)}`;
}
