// issue 13 point 4: after a mail is recorded on its issues, the people it was addressed or copied
// to (other than us) join those issues as participants (src/rules/cc-participants.ts decides).
import { addCcParticipants, participantEmails } from "../store/queries/participant-queries.js";
import type { StagedMail } from "../store/queries/queries.js";
import { ccParticipants, type CcDecision } from "../rules/cc-participants.js";
import { bareAddress } from "../rules/confirm.js";
import type { Deps } from "./deps.js";
import { chooseRecipient } from "./recipient.js";
import { trustOf } from "./trust.js";

const split = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);

/** Our own addresses for this mail: configured ones and the address it was delivered to. */
function ownAddresses(deps: Deps, staged: StagedMail): string[] {
  const { config } = deps;
  const support = config.supportAddresses.map((a) => a.toLowerCase());
  // With no support addresses configured, the recipient (envelope, else the first header address)
  // is the only sign of which address is ours.
  const rcpt = chooseRecipient({ envelope: staged.envelopeRecipient, deliveredTo: split(staged.deliveredTo), to: split(staged.toAddresses), cc: split(staged.ccAddresses), supportAddresses: support });
  return [...config.supportAddresses, ...config.routes.map((r) => r.address), config.outbound.from, config.adminAddress ?? "", staged.envelopeRecipient ?? "", rcpt.recipient ?? ""]
    .filter(Boolean)
    .map(bareAddress);
}

export async function addCopiedParticipants(deps: Deps, staged: StagedMail, issueIds: number[], at: string): Promise<Map<number, CcDecision>> {
  const out = new Map<number, CcDecision>();
  // domain.md §9: a sender our MTA found unauthenticated is no participant, nor are those it copies.
  if (!trustOf(deps, staged).authenticated) return out;
  const to = split(staged.toAddresses);
  const cc = split(staged.ccAddresses);
  // Most mail is addressed to us alone: then there is nothing to look up (import throughput).
  if (to.length + cc.length === 0) return out;
  const own = ownAddresses(deps, staged);
  if (ccParticipants({ to, cc, sender: staged.fromAddress, own, known: [] }).add.length === 0) return out;
  for (const issueId of issueIds) {
    const decision = ccParticipants({ to, cc, sender: staged.fromAddress, own, known: await participantEmails(deps.db, issueId) });
    await addCcParticipants(deps.db, issueId, decision.add, staged.id, at);
    out.set(issueId, decision);
  }
  return out;
}
