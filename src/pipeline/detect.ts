// The detect-auto stage (domain.md §6, issue 13): runs for every staged mail before anything can stop
// it (a subject-less bounce is still marked auto-generated on its `invalid` record).
import { attachmentsOf, type StagedMail } from "../store/queries/queries.js";
import { detectAuto, type AutoDetection } from "../rules/detect-auto.js";
import { parseHeaderBlock } from "../rules/headers.js";
import type { Deps } from "./deps.js";

const list = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);

export async function detectStaged(deps: Deps, row: StagedMail): Promise<AutoDetection> {
  return detectAuto({
    headers: parseHeaderBlock(row.headers),
    envelopeSender: row.envelopeSender,
    fromAddress: row.fromAddress,
    partTypes: (await attachmentsOf(deps.db, row.id)).map((a) => a.contentType ?? ""),
    subject: row.subject,
    recipients: [...(row.envelopeRecipient ? [row.envelopeRecipient] : []), ...list(row.deliveredTo), ...list(row.toAddresses), ...list(row.ccAddresses)],
  });
}
