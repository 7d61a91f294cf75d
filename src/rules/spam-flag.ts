// Issue 10 (domain.md §9): mail the MTA's spam filter flagged (SpamAssassin's X-Spam-Flag: YES,
// X-Spam-Status: Yes, ...) is staged as `spam` and not processed or answered until an administrator
// resubmits it. Which headers count is config `spamHeaders`; a value starting with "yes" flags.
import type { HeaderMap } from "./headers.js";

export function spamFlag(headers: HeaderMap, spamHeaders: string[]): string | null {
  for (const name of spamHeaders) {
    for (const v of headers.get(name.toLowerCase()) ?? []) {
      if (/^yes\b/i.test(v.trim())) return `${name}: ${v.trim().slice(0, 40).replace(/[\u0000-\u001f\u007f]/g, "")}`;
    }
  }
  return null;
}
