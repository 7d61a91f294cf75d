// "The new part of a reply first, when known" (issue 15 §2): a reply's text split where the quoted
// earlier mail starts. One pass over the lines, bounded patterns only (mail text is hostile).
import { storedReplyText } from "../rules/reply-text.js";

const ATTRIBUTION = /^(On|Am|Le|El|Il|Op|W dniu|Dnia) .{0,300}(wrote|schrieb|a écrit|escribió|ha scritto|schreef|napisał).{0,100}:\s*$/i;
const DIVIDER = /^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Wiadomość oryginalna)\s*-{2,}|_{20,})\s*$/i;

export interface SplitText {
  fresh: string;
  /** The quoted history, or null when none was recognised. */
  quoted: string | null;
  /** issue 13: `quoted` is the whole mail (the stored new text is `fresh`), not only its history. */
  whole?: boolean;
}

/** issue 13: the new text the action keeps (actions.reply_text) when there is one, with the whole
 * mail behind it; older actions are split here as before. */
export function splitAction(details: string, stored: string | null): SplitText {
  const replyText = storedReplyText(details, stored);
  if (replyText === null) return splitQuoted(details);
  return replyText.trim() === details.trim() ? { fresh: details, quoted: null } : { fresh: replyText, quoted: details, whole: true };
}

export function splitQuoted(text: string): SplitText {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].length > 400 ? "" : lines[i].replace(/\r$/, "");
    if (line.startsWith(">") || ATTRIBUTION.test(line) || DIVIDER.test(line)) {
      const fresh = lines.slice(0, i).join("\n").trimEnd();
      // Nothing new above the quote (a bare forward): show it all.
      if (!fresh.trim()) return { fresh: text, quoted: null };
      return { fresh, quoted: lines.slice(i).join("\n") };
    }
  }
  return { fresh: text, quoted: null };
}
