import { findReference } from "./reference.js";
import type { Matcher } from "./types.js";

export const subjectReference: Matcher = {
  name: "subject-reference",
  guessable: true,
  match(input, lookup) {
    const hit = findReference(input.subject, input.referencePrefix, lookup);
    return hit ? { issue: hit.issue, evidence: `subject names ${hit.reference}` } : null;
  },
};
