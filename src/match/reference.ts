// An issue reference ([CS-000123], prefix configurable) found in some text.
import type { Issue } from "../store/queries/queries.js";
import type { MatchLookup } from "./types.js";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function findReference(text: string | null, prefix: string, lookup: MatchLookup): { issue: Issue; reference: string } | null {
  if (!text) return null;
  const re = new RegExp(`(?<![\\w-])${escape(prefix)}(\\d{1,12})(?!\\w)`, "gi");
  for (const m of text.matchAll(re)) {
    const reference = `${prefix}${String(Number(m[1])).padStart(6, "0")}`.toUpperCase(); // CS-123, CS-0000123 → CS-000123
    const issue = lookup.issueByReference(reference);
    if (issue) return { issue, reference };
  }
  return null;
}
