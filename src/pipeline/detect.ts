// The detect-auto stage (domain.md §6, issue 13): runs for every staged mail before anything can stop
// it (a subject-less bounce is still marked auto-generated on its `invalid` record).
import type { StagedMail } from "../store/queries/queries.js";
import { detectAuto, type AutoDetection } from "../rules/detect-auto.js";
import { parseHeaderBlock } from "../rules/headers.js";

const list = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);

/** `partTypes`: the content types of the mail's attachments, as this parse of its raw bytes found them. */
export function detectStaged(row: StagedMail, partTypes: readonly string[]): AutoDetection {
  return detectAuto({
    headers: parseHeaderBlock(row.headers),
    envelopeSender: row.envelopeSender,
    fromAddress: row.fromAddress,
    partTypes: [...partTypes],
    subject: row.subject,
    recipients: [...(row.envelopeRecipient ? [row.envelopeRecipient] : []), ...list(row.deliveredTo), ...list(row.toAddresses), ...list(row.ccAddresses)],
  });
}
