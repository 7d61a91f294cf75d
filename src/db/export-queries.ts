// Issue 14: getting things out. The raw message as stored, and one attachment's file.
import type { Db } from "./open.js";
import type { Attachment } from "./queries.js";
import { getOne, stmt } from "./sql.js";
import { attachments } from "./tables.generated.js";

/** Where a staged mail's raw bytes are: in the row (small mail) or a spool file (large mail). */
export function rawOf(db: Db, stagedId: number): { raw: Buffer | null; rawPath: string | null } | undefined {
  return stmt(db, `SELECT raw, raw_path AS rawPath FROM staged_mails WHERE id = ?`).get(stagedId) as { raw: Buffer | null; rawPath: string | null } | undefined;
}

export function getAttachment(db: Db, id: number): Attachment | undefined {
  return getOne(db, attachments, `WHERE id = ?`, id);
}
