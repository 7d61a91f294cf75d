// domain.md §7 (ACS): one interaction per message and one action per issue it lands on.
import { insertAction, insertInteraction, linkAttachmentsToAction } from "../db/queries.js";
import type { StagedMail } from "../db/queries.js";
import type { Deps } from "./deps.js";

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
  const actionIds = issueIds.map((issueId) => insertAction(deps.db, { issueId, interactionId, details, createdAt: at }));
  if (actionIds.length) linkAttachmentsToAction(deps.db, staged.id, actionIds[0]);
  return { interactionId, actionIds };
}
