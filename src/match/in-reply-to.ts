import { issueGuidFromMessageId } from "./message-id.js";
import type { Matcher } from "./types.js";

export const inReplyTo: Matcher = {
  name: "in-reply-to",
  guessable: false,
  match(input, lookup) {
    const guid = input.inReplyTo ? issueGuidFromMessageId(input.inReplyTo) : null;
    const issue = guid ? lookup.issueByGuid(guid) : undefined;
    return issue ? { issue, evidence: `In-Reply-To ${input.inReplyTo}` } : null;
  },
};
