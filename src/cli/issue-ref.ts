// An issue named on the command line: its id (12) or its reference (CS-000012), the form every
// ingest summary, `issue list` and the customer's subject line show. A reference is looked up as
// stored (prefix + id, upper case: store/queries/queries.ts createIssue), so one made under an
// earlier referencePrefix is still found.
import { InvalidArgumentError } from "commander";

export type IssueRef = number | string;

// Letters, digits and . _ - only, bounded: what an admin types, never a pattern or a control character.
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The id (all digits) or the reference (upper-cased), or null when the text is neither. */
export function parseIssueRef(text: string): IssueRef | null {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  return REFERENCE.test(text) ? text.toUpperCase() : null;
}

/** A commander argument parser for an issue id or reference. */
export const issueArg = (name: string) => (text: string): IssueRef => {
  const ref = parseIssueRef(text);
  if (ref === null) throw new InvalidArgumentError(`${name} is an issue id (12) or reference (CS-000012), got "${text.slice(0, 80)}"`);
  return ref;
};
