// The contract every matcher keeps (domain.md §3): it reads, returns one candidate issue or null,
// and never writes. The order lives in ./order.ts.
import type { Issue } from "../store/queries/queries.js";

export type MatcherName = "address-ids" | "in-reply-to" | "references" | "body-token" | "subject-reference" | "body-reference";

export interface MatchInput {
  inReplyTo: string | null;
  references: string[];
  subject: string | null;
  text: string | null;
  referencePrefix: string;
}

export interface MatchLookup {
  issueByGuid(guid: string): Issue | undefined;
  issueByReference(reference: string): Issue | undefined;
}

export interface Candidate {
  issue: Issue;
  /** What was found, for the trace. */
  evidence: string;
}

export interface Matcher {
  name: MatcherName;
  /** Guessable evidence (a reference number): counts only from the issue's customer or a participant. */
  guessable: boolean;
  match(input: MatchInput, lookup: MatchLookup): Candidate | null;
}
