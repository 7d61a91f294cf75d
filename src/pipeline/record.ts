// domain.md §7 (ACS): one interaction per message and one action per issue it lands on.
import { insertAction, insertInteraction, insertInteractionWithAction, linkAttachmentsToAction } from "../store/queries/queries.js";
import type { StagedMail } from "../store/queries/queries.js";
import { replyText } from "../rules/reply-text.js";
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
  // issue 13: the full text stays in details; the new part of it is kept beside it.
  const action = { details, replyText: replyText(details, { subject: staged.subject }), createdAt: at };
  let interactionId: number;
  const actionIds: number[] = [];
  if (issueIds.length === 1) {
    // Most mail lands on one issue: the interaction and its action in one statement (PostgreSQL).
    const r = await insertInteractionWithAction(deps.db, interaction, { ...action, issueId: issueIds[0] });
    interactionId = r.interactionId;
    actionIds.push(r.actionId);
  } else {
    interactionId = await insertInteraction(deps.db, interaction);
    for (const issueId of issueIds) actionIds.push(await insertAction(deps.db, { ...action, issueId, interactionId }));
  }
  // The rows this parse wrote (applyComponents): a mail without attachments has none to link.
  if (actionIds.length && hasAttachments) await linkAttachmentsToAction(deps.db, staged.id, actionIds[0]);
  await addCopiedParticipants(deps, staged, issueIds, at); // issue 13: people copied on the mail join its issues
  return { interactionId, actionIds };
}
