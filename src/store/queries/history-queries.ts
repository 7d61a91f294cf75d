// Issue 14: the history of every change to an issue (who, when, what), written where issues are
// updated (updateIssue) so that admin commands and mail processing both leave a trace.
import type { Db } from "../store.js";
import type { Issue } from "./queries.js";
import { getAll, insertRows } from "../sql.js";
import { issueHistory } from "../tables.generated.js";

export type IssueChange = typeof issueHistory.$inferSelect;

// Issue property → the field name the history shows. Dates and the subject are not tracked.
const TRACKED: [keyof Issue, string][] = [
  ["state", "state"],
  ["waitType", "wait_type"],
  ["queue", "queue"],
  ["assignee", "assignee"],
  ["newInfo", "new_info"],
  ["parentId", "parent"],
  ["mergedIntoId", "merged_into"],
  ["splitFromId", "split_from"],
  ["convertedToId", "converted_to"],
];

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** One row per tracked field that differs between `before` and `after`, at after.updatedAt. */
export async function recordIssueDiff(db: Db, before: Issue, after: Issue, actor: string): Promise<void> {
  const rows = TRACKED.filter(([k]) => asText(before[k]) !== asText(after[k])).map(([k, field]) => ({
    issueId: after.id,
    at: after.updatedAt,
    actor,
    field,
    oldValue: asText(before[k]),
    newValue: asText(after[k]),
  }));
  await insertRows(db, issueHistory, rows);
}

/** A change that is not a field of the issue itself (created, split_into, converted_from). */
export async function recordIssueEvent(db: Db, issueId: number, at: string, actor: string, field: string, newValue: string | null, oldValue: string | null = null): Promise<void> {
  await insertRows(db, issueHistory, [{ issueId, at, actor, field, oldValue, newValue }]);
}

export async function issueHistoryOf(db: Db, issueId: number): Promise<IssueChange[]> {
  return getAll(db, issueHistory, `WHERE issue_id = ? ORDER BY id`, issueId);
}
