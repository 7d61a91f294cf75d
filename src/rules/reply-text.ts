// The new part of a reply (issue 13 point 1): the customer's own text without the quoted history,
// attribution lines, signatures after "-- " (RFC 3676 §4.3) and forwarded-message headers; a
// forwarded mail's own content is kept. Pure and linear: one pass over the lines, each marker test
// bounded by the line length cap in reply-markers.ts. When in doubt it keeps text: a missed strip is
// acceptable, a lost line of the customer's is not.
import {
  attributionAt,
  isBareSeparatorTitle,
  isForwardHeaderLine,
  isForwardSubject,
  isHeaderBlockAt,
  isMobileSignature,
  isOriginalSeparator,
  isUnderscoreRule,
  separatorKind,
} from "./reply-markers.js";

export interface ReplyTextOptions {
  /** The mail's subject: "Fwd:"/"FW:"/"WG:"… turns an Outlook header block into a forward, and
   * "Re:"/"AW:"/"SV:"… lets a long quoted block at the end go even without an attribution. */
  subject?: string | null;
}

/** Re: and its translations (AW: de, SV: sv/da/no, R:/RIF: it, RES: pt, ODP: pl, VS: fi, 回复/答复 zh). */
const isReplySubject = (subject: string | null | undefined) =>
  !!subject && /^\s*(?:\[[^\]]{0,40}\]\s*)?(re|aw|sv|r|rif|res|odp|vs|antw|atb|ynt|回复|答复|返信)\s*[:：]/i.test(subject.slice(0, 200));

// Plain loops: these run on every line of every mail (import throughput, issue 5).
function isQuote(l: string): boolean {
  for (let k = 0; k < 4 && k < l.length; k++) {
    if (l[k] === ">") return true;
    if (l[k] !== " " && l[k] !== "\t") return false;
  }
  return false;
}

function isBlank(l: string): boolean {
  for (let k = 0; k < l.length; k++) {
    const c = l.charCodeAt(k);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xa0) return false;
  }
  return true;
}

type Cut = { at: number; kind: "history" | "forward"; skip: number };

/** Where the unquoted history (or a forwarded mail) begins: the first marker line, or null. */
function findCut(lines: readonly string[], forwardSubject: boolean): Cut | null {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length === 0 || isQuote(l)) continue;
    const separator = separatorKind(l);
    if (separator === "forward") return { at: i, kind: "forward", skip: 1 };
    if (separator === "original") return { at: i, kind: forwardSubject ? "forward" : "history", skip: 1 };
    if (isUnderscoreRule(l)) {
      let j = i + 1;
      while (j < lines.length && j <= i + 2 && isBlank(lines[j])) j++;
      if (j < lines.length && isHeaderBlockAt(lines, j)) return { at: i, kind: forwardSubject ? "forward" : "history", skip: j - i };
      continue;
    }
    if (isHeaderBlockAt(lines, i)) return { at: i, kind: forwardSubject ? "forward" : "history", skip: 0 };
    const n = attributionAt(lines, i, true);
    if (n) {
      // Followed by quoted lines, it belongs to them: the quote rules below decide (bottom-posting).
      let j = i + n;
      while (j < lines.length && isBlank(lines[j])) j++;
      if (j < lines.length && isQuote(lines[j])) continue;
      return { at: i, kind: "history", skip: n };
    }
  }
  return null;
}

/** A forwarded mail's content: its header block and the blank lines after it left out. */
function forwardedContent(lines: readonly string[]): string[] {
  let i = 0;
  while (i < lines.length && isBlank(lines[i])) i++;
  const start = i;
  while (i < lines.length && i - start < 16 && (isForwardHeaderLine(lines[i]) || (i > start && /^[ \t]+\S/.test(lines[i])))) i++;
  return lines.slice(i);
}

/**
 * Trailing quoted history: a block of quoted lines (and blank lines) that ends the text, with the
 * attribution just above it. Without an attribution the block counts as history only when it looks
 * like one (nested quotes, a quoted attribution or header block, or more than three lines under a
 * reply's subject), so that a customer's own "> pasted error" or log at the end stays.
 */
function stripTrailingQuotes(lines: string[], reply: boolean): string[] {
  let end = lines.length;
  while (end > 0 && isBlank(lines[end - 1])) end--;
  let start = end;
  while (start > 0 && (isQuote(lines[start - 1]) || isBlank(lines[start - 1]))) start--;
  while (start < end && isBlank(lines[start])) start++;
  if (start === end) return lines.slice(0, end);
  const block = lines.slice(start, end);
  // The attribution above: up to three lines, possibly followed by one blank line.
  let above = start;
  while (above > 0 && isBlank(lines[above - 1]) && start - above < 1) above--;
  for (let n = 3; n >= 1; n--) {
    if (above - n < 0) continue;
    if (attributionAt(lines, above - n, false) === n) return lines.slice(0, above - n);
  }
  const unquoted = block.map((l) => l.replace(/^[ \t]{0,3}>[ \t]?/, ""));
  const looksLikeHistory =
    block.some((l) => /^[ \t]{0,3}>[ \t]?>/.test(l)) ||
    unquoted.some((l, k) => attributionAt(unquoted, k, false) > 0 || isHeaderBlockAt(unquoted, k) || isOriginalSeparator(l)) ||
    (reply && block.filter((l) => !isBlank(l)).length > 3);
  return looksLikeHistory ? lines.slice(0, start) : lines.slice(0, end);
}

/**
 * Bottom-posting: the text begins with an attribution and one quoted block, and the customer's
 * answer follows it. Without an attribution only under a reply's subject (a new mail may begin with
 * a pasted "> error"). Interleaved answers (text between several quoted blocks) are kept whole,
 * since the quotes are what the answers refer to.
 */
function stripLeadingQuote(lines: string[], reply: boolean): string[] {
  let i = 0;
  while (i < lines.length && isBlank(lines[i])) i++;
  const n = attributionAt(lines, i, false);
  if (n === 0 && !reply) return lines;
  let j = i + n;
  while (j < lines.length && isBlank(lines[j])) j++;
  if (j >= lines.length || !isQuote(lines[j])) return lines;
  let k = j;
  while (k < lines.length && (isQuote(lines[k]) || isBlank(lines[k]))) k++;
  if (k >= lines.length) return lines; // quotes only: nothing new to keep apart
  if (lines.slice(k).some(isQuote)) return lines; // interleaved
  return lines.slice(k);
}

/** Signature: from a "-- " line (RFC 3676 §4.3), or "--" (the space lost in transit) when short. */
function stripSignature(lines: string[]): string[] {
  let after = 0; // non-blank lines after the current one, counted from the end
  let cut = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l === "-- " || (l === "--" && after <= 10)) cut = i;
    if (!isBlank(l)) after++;
  }
  return cut >= 0 ? lines.slice(0, cut) : lines;
}

function stripMobileSignature(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && isBlank(lines[end - 1])) end--;
  return end > 0 && isMobileSignature(lines[end - 1]) ? lines.slice(0, end - 1) : lines.slice(0, end);
}

function ownText(lines: string[], reply: boolean): string[] {
  return stripMobileSignature(stripSignature(stripLeadingQuote(stripTrailingQuotes(lines, reply), reply)));
}

const join = (lines: string[]) => lines.join("\n").replace(/^(?:[ \t]*\n)+/, "").trimEnd();

/** A dashed rule with any text in it ("----- Original Nachricht ----"): left over above a cut. */
const isDashedRule = (l: string) => /^\s{0,3}-{3,}[^-]{0,40}-{3,}\s*$/.test(l.length <= 60 ? l : "");

/** A rule, or a separator's bare title (BlackBerry's "  Original Message"), left over above a cut. */
function dropDanglingRule(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && isBlank(lines[end - 1])) end--;
  return end > 0 && (isDashedRule(lines[end - 1]) || isBareSeparatorTitle(lines[end - 1])) ? lines.slice(0, end - 1) : lines;
}

// A forward of a forward: each level's header block goes, each level's content stays. Bounded so
// that a hostile chain of markers costs at most this many linear passes.
const MAX_FORWARD_DEPTH = 8;

interface Context {
  forward: boolean;
  reply: boolean;
}

function extract(lines: string[], ctx: Context, depth: number): string {
  const cut = findCut(lines, ctx.forward);
  const before = cut ? dropDanglingRule(lines.slice(0, cut.at)) : lines;
  const note = join(ownText(before, ctx.reply));
  if (cut?.kind !== "forward") return note;
  const rest = forwardedContent(lines.slice(cut.at + cut.skip));
  const fwd = depth < MAX_FORWARD_DEPTH ? extract(rest, ctx, depth + 1) : join(rest);
  return note && fwd ? `${note}\n\n${fwd}` : note || fwd;
}

/** The new text of a message body; the whole body (trimmed) when nothing new can be told apart. */
export function replyText(body: string, opts: ReplyTextOptions = {}): string {
  return newAndWhole(body, opts).fresh;
}

/**
 * What `actions.reply_text` holds: the new text, or "" when it is the whole body (most first mails
 * have nothing quoted). Issue 9.3: the text body is stored once; a copy beside `details` doubled
 * such an action (SQLite, 2,001 4 KB mails: 14,951 bytes a mail with it, 10,855 without). Read it
 * back with storedReplyText.
 */
export function replyTextToStore(body: string, opts: ReplyTextOptions = {}): string {
  const { fresh, whole } = newAndWhole(body, opts);
  return fresh === whole ? "" : fresh;
}

/** The new text an action holds (replyTextToStore); null for actions recorded before it was kept. */
export function storedReplyText(details: string, stored: string | null): string | null {
  return stored === "" ? join(linesOf(details)) : stored;
}

function newAndWhole(body: string, opts: ReplyTextOptions): { fresh: string; whole: string } {
  const lines = linesOf(body);
  const whole = join(lines);
  return { fresh: extract(lines, { forward: isForwardSubject(opts.subject), reply: isReplySubject(opts.subject) }, 0) || whole, whole };
}

const linesOf = (body: string) => body.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
