// Runs the matchers (src/match/order.ts) against the database, read-only.
import { participantEmails } from "../db/participant-queries.js";
import { getIssueByGuid, getIssueByReference } from "../db/queries.js";
import { runMatchers, type MatchResult } from "../match/order.js";
import type { Deps } from "./deps.js";

export interface MatchMail {
  inReplyTo: string | null;
  references: string[];
  subject: string | null;
  text: string | null;
  senderEmail: string | null;
  /** Issue 10: false when our MTA found the From forged: then the sender is no participant. */
  authenticated?: boolean;
}

export function matchIssue(deps: Deps, mail: MatchMail): MatchResult {
  const lookup = {
    issueByGuid: (guid: string) => getIssueByGuid(deps.db, guid),
    issueByReference: (ref: string) => getIssueByReference(deps.db, ref),
  };
  // domain.md §3: references are guessable, so by default only the customer or a participant (who wrote
  // in, or was copied on a customer's mail: issue 13) may use them. A sender our MTA found
  // unauthenticated is no participant (domain.md §9).
  const trusted = (issueId: number) =>
    deps.config.referencesFrom === "anyone" || (mail.authenticated !== false && !!mail.senderEmail && participantEmails(deps.db, issueId).includes(mail.senderEmail.toLowerCase()));
  return runMatchers({ ...mail, referencePrefix: deps.config.referencePrefix }, lookup, trusted);
}
