// domain.md §7 (ACS): one interaction per message and one action per issue it lands on.
import { insertAction, insertInteraction, linkAttachmentsToAction } from "../db/queries.js";
import type { StagedMail } from "../db/queries.js";
import { replyText } from "../rules/reply-text.js";
import type { Deps } from "./deps.js";
import { addCopiedParticipants } from "./participants.js";

export function recordMail(deps: Deps, staged: StagedMail, userIdentificationId: number, issueIds: number[]): { interactionId: number; actionIds: number[] } {
  const at = deps.now().toISOString();
  const interactionId = insertInteraction(deps.db, {
    userIdentificationId,
    stagedMailId: staged.id,
    interactionDate: staged.date ?? staged.receivedAt,
    originator: "customer",
    type: "email",
    headers: staged.headers,
  });
  const details = staged.textBody ?? "";
  // issue 13: the full text stays in details; the new part of it is kept beside it.
  const reply = replyText(details, { subject: staged.subject });
  const actionIds = issueIds.map((issueId) => insertAction(deps.db, { issueId, interactionId, details, replyText: reply, createdAt: at }));
  if (actionIds.length) linkAttachmentsToAction(deps.db, staged.id, actionIds[0]);
  addCopiedParticipants(deps, staged, issueIds, at); // issue 13: people copied on the mail join its issues
  return { interactionId, actionIds };
}
