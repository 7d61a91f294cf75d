// Issue 14: getting things out: one attachment's row (the raw message: rawOf in queries.ts).
import type { Db } from "../store.js";
import type { Attachment } from "./queries.js";
import { getOne } from "../sql.js";
import { attachments } from "../tables.generated.js";

export async function getAttachment(db: Db, id: number): Promise<Attachment | undefined> {
  return getOne(db, attachments, `WHERE id = ?`, id);
}
