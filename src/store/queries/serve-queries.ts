// Queries of the LMTP daemon (issue 12): which staged records it still has to finish.
import type { Db } from "./open.js";
import { stmt } from "./sql.js";

/** Records in status `new` with an id above `afterId`, oldest first (staged_mails_status_idx). */
export function listNewStagedIds(db: Db, afterId: number, limit: number): number[] {
  return (stmt(db, `SELECT id FROM staged_mails WHERE status = 'new' AND id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as { id: number }[]).map((r) => r.id);
}

/** Records a crash left in in_process / workflow (older databases) since before `olderThan`. */
export function listStuckInProcessIds(db: Db, olderThan: string): number[] {
  return (stmt(db, `SELECT id FROM staged_mails WHERE status IN ('in_process', 'workflow') AND updated_at < ? ORDER BY id`).all(olderThan) as { id: number }[]).map((r) => r.id);
}
