import { issueGuidFromMessageId } from "./message-id.js";
import type { Matcher } from "./types.js";

// Newest reference first (RFC 5322 §3.6.4 appends the parent last): the latest thread position wins.
export const references: Matcher = {
  name: "references",
  guessable: false,
  match(input, lookup) {
    for (const ref of [...input.references].reverse()) {
      const guid = issueGuidFromMessageId(ref);
      const issue = guid ? lookup.issueByGuid(guid) : undefined;
      if (issue) return { issue, evidence: `References ${ref}` };
    }
    return null;
  },
};
