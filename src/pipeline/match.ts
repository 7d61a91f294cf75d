// Runs the matchers (src/match/order.ts) against the database, read-only.
import { participantEmails } from "../store/queries/participant-queries.js";
import { issuesNamed } from "../store/queries/queries.js";
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

export async function matchIssue(deps: Deps, mail: MatchMail): Promise<MatchResult> {
  const input = { ...mail, referencePrefix: deps.config.referencePrefix };
  // Issue 11.4: the matchers decide over issues loaded first. A dry run with nothing found lists
  // every guid and reference any matcher would look up (with no hit, each one tries them all).
  const guids = new Set<string>();
  const references = new Set<string>();
  runMatchers(input, { issueByGuid: (g) => void guids.add(g.toLowerCase()), issueByReference: (r) => void references.add(r.toUpperCase()) }, () => false);
  const named = await issuesNamed(deps.db, [...guids], [...references]);
  const byGuid = new Map(named.filter((i) => i.guid).map((i) => [i.guid!.toLowerCase(), i]));
  const byReference = new Map(named.filter((i) => i.reference).map((i) => [i.reference!.toUpperCase(), i]));
  // domain.md §3: references are guessable, so by default only the customer or a participant (who wrote
  // in, or was copied on a customer's mail: issue 13) may use them. A sender our MTA found
  // unauthenticated is no participant (domain.md §9).
  const sender = mail.authenticated !== false && mail.senderEmail ? mail.senderEmail.toLowerCase() : null;
  const participantOf = new Set<number>();
  if (deps.config.referencesFrom !== "anyone" && sender) for (const i of named) if ((await participantEmails(deps.db, i.id)).includes(sender)) participantOf.add(i.id);
  const trusted = (issueId: number) => deps.config.referencesFrom === "anyone" || participantOf.has(issueId);
  return runMatchers(input, { issueByGuid: (g) => byGuid.get(g.toLowerCase()), issueByReference: (r) => byReference.get(r.toUpperCase()) }, trusted);
}
