import { findReference } from "./reference.js";
import type { Matcher } from "./types.js";

export const bodyReference: Matcher = {
  name: "body-reference",
  guessable: true,
  match(input, lookup) {
    const hit = findReference(input.text, input.referencePrefix, lookup);
    return hit ? { issue: hit.issue, evidence: `body names ${hit.reference}` } : null;
  },
};
