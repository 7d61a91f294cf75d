// domain.md §3 (Enate's order): the first hit wins. Address ids (step 0) are checked earlier, while
// working out who wrote, because they also decide the user identification.
import { bodyReference } from "./body-reference.js";
import { bodyTokenMatcher } from "./body-token.js";
import { inReplyTo } from "./in-reply-to.js";
import { references } from "./references.js";
import { subjectReference } from "./subject-reference.js";
import type { TraceStep } from "../domain/trace.js";
import type { Candidate, Matcher, MatcherName, MatchInput, MatchLookup } from "./types.js";

export const matchers: readonly Matcher[] = [inReplyTo, references, bodyTokenMatcher, subjectReference, bodyReference];

/** A trace step (src/domain/trace.ts), under the name the matchers have always used. */
export type MatchStep = TraceStep;

export interface MatchResult {
  candidate: (Candidate & { matchedBy: MatcherName }) | null;
  trace: MatchStep[];
}

/**
 * Runs the matchers in order. `trusted(issue)` says whether the sender may use guessable evidence
 * for that issue (the customer or an earlier participant, unless config allows anyone).
 */
export function runMatchers(input: MatchInput, lookup: MatchLookup, trusted: (issueId: number) => boolean): MatchResult {
  const trace: MatchStep[] = [];
  for (const m of matchers) {
    const hit = m.match(input, lookup);
    if (!hit) continue;
    if (m.guessable && !trusted(hit.issue.id)) {
      trace.push({ step: "match", decision: `ignored ${m.name}`, reason: `${hit.evidence}, but the sender is not the customer or a participant of ${hit.issue.reference}` });
      continue;
    }
    trace.push({ step: "match", decision: `matched ${hit.issue.reference} by ${m.name}`, reason: hit.evidence });
    return { candidate: { ...hit, matchedBy: m.name }, trace };
  }
  trace.push({ step: "match", decision: "no match", reason: "no matcher found an existing issue" });
  return { candidate: null, trace };
}
