// Queries of the LMTP daemon (issue 12): which staged records it still has to finish.
import type { Db } from "../store.js";


/** Records in status `new` with an id above `afterId`, oldest first (staged_mails_status_idx). */
export async function listNewStagedIds(db: Db, afterId: number, limit: number): Promise<number[]> {
  return ((await db.all(`SELECT id FROM staged_mails WHERE status = 'new' AND id > ? ORDER BY id LIMIT ?`, [afterId, limit])) as { id: number }[]).map((r) => r.id);
}

/** Records a crash left in in_process / workflow (older databases) since before `olderThan`. */
export async function listStuckInProcessIds(db: Db, olderThan: string): Promise<number[]> {
  return ((await db.all(`SELECT id FROM staged_mails WHERE status IN ('in_process', 'workflow') AND updated_at < ? ORDER BY id`, [olderThan])) as { id: number }[]).map((r) => r.id);
}
