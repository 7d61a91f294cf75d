// domain.md §7 (ACS): one interaction per message and one action per issue it lands on.
import { insertInteractionWithActions, linkAttachmentsToAction } from "../store/queries/queries.js";
import type { StagedMail } from "../store/queries/queries.js";
import { replyTextToStore } from "../rules/reply-text.js";
import type { Deps } from "./deps.js";
import { addCopiedParticipants } from "./participants.js";

export async function recordMail(deps: Deps, staged: StagedMail, userIdentificationId: number, issueIds: number[], hasAttachments: boolean): Promise<{ interactionId: number; actionIds: number[] }> {
  const at = deps.now().toISOString();
  const interaction = {
    userIdentificationId,
    stagedMailId: staged.id,
    interactionDate: staged.date ?? staged.receivedAt,
    originator: "customer",
    type: "email",
    headers: staged.headers,
  };
  const details = staged.textBody ?? "";
  // issue 13: the full text stays in details; the new part of it is kept beside it ("" when it is
  // the whole text: issue 9.3, stored once).
  const action = { details, replyText: replyTextToStore(details, { subject: staged.subject }), createdAt: at };
  const { interactionId, actionIds } = await insertInteractionWithActions(deps.db, interaction, action, issueIds);
  // The rows this parse wrote (applyComponents): a mail without attachments has none to link.
  if (actionIds.length && hasAttachments) await linkAttachmentsToAction(deps.db, staged.id, actionIds[0]);
  await addCopiedParticipants(deps, staged, issueIds, at); // issue 13: people copied on the mail join its issues
  return { interactionId, actionIds };
}
