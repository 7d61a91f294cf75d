import type { Matcher } from "./types.js";

// Outbound mail carries [ref:ISSUEGUID] in its body; replies usually quote it.
const TOKEN = /\[ref:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]/gi;

export function bodyToken(issueGuid: string): string {
  return `[ref:${issueGuid}]`;
}

export const bodyTokenMatcher: Matcher = {
  name: "body-token",
  guessable: false,
  match(input, lookup) {
    for (const m of (input.text ?? "").matchAll(TOKEN)) {
      const issue = lookup.issueByGuid(m[1].toLowerCase());
      if (issue) return { issue, evidence: `body token ${m[0]}` };
    }
    return null;
  },
};
