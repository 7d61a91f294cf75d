// issue 13: what a delivery report says about the mail it reports on. Pure and bounded: it reads at
// most MAX_SCAN characters of the message, at most MAX_PARTS MIME parts MAX_DEPTH deep, and every
// pattern is anchored or quantifier-bounded (the mail is hostile).
//   RFC 3464 (DSN: message/delivery-status), RFC 6533 (message/global-delivery-status), RFC 5965
//   (ARF: message/feedback-report), RFC 6522 (multipart/report); the original comes back as
//   message/rfc822 or text/rfc822-headers. MTAs that write no RFC 3464 part (qmail, old Exim,
//   gateways) quote the original's headers as text: their Message-ID lines are read too.
import { parseHeaderBlock, type HeaderMap } from "./headers.js";

export interface DeliveryReport {
  /** delivery-status: an RFC 3464 part was found; feedback: an ARF part; disposition: a read receipt (RFC 8098); text: none. */
  kind: "delivery-status" | "feedback" | "disposition" | "text";
  /** RFC 3464 §2.3.3 action of the reported recipient (failed | delayed | delivered | relayed | expanded), or null. */
  action: string | null;
  /** The enhanced status code (RFC 3463, 5.1.1) or, for a feedback report, its Feedback-Type. */
  status: string | null;
  /** Diagnostic-Code (or the line of text carrying the status), cleaned for display. */
  diagnostic: string | null;
  finalRecipient: string | null;
  /** RFC 3464 §2.2.1 Original-Envelope-Id (the ENVID we sent with). */
  envelopeId: string | null;
  /** Message-IDs of the reported original, from its embedded headers or quoted header lines. */
  originalMessageIds: string[];
}

const MAX_SCAN = 512 * 1024;
const MAX_PARTS = 64;
const MAX_DEPTH = 6;
const MAX_TEXT = 500;
/** How much text the status scan reads. */
const TEXT_SCAN = 64 * 1024;

const DSN_TYPES = ["message/delivery-status", "message/global-delivery-status"];
const ORIGINAL_TYPES = ["message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers"];
const ACTION_ORDER = ["failed", "delayed", "delivered", "relayed", "expanded"];

/** Display-safe: no control or bidi characters, white space collapsed, bounded length. */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, " ").replace(/\s+/g, " ").trim();
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
}

interface Part {
  headers: HeaderMap;
  body: string;
}

function splitPart(text: string): Part {
  const end = text.indexOf("\n\n");
  const head = end < 0 ? text : text.slice(0, end);
  return { headers: parseHeaderBlock(head), body: end < 0 ? "" : text.slice(end + 2) };
}

function typeOf(p: Part): { type: string; boundary: string | null } {
  const ct = p.headers.get("content-type")?.[0] ?? "text/plain";
  const type = ct.split(";")[0].trim().toLowerCase();
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(ct);
  return { type, boundary: m ? (m[1] ?? m[2]) : null };
}

function decodeBody(p: Part): string {
  const cte = (p.headers.get("content-transfer-encoding")?.[0] ?? "").toLowerCase().trim();
  if (cte === "base64") return Buffer.from(p.body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").toString("utf8");
  if (cte === "quoted-printable") return p.body.replace(/=\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return p.body;
}

/** The parts of a multipart body, by plain substring search for delimiter lines (RFC 2046 §5.1.1). */
function children(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const lines: number[] = [];
  for (let i = body.indexOf(delim); i >= 0 && lines.length <= MAX_PARTS; i = body.indexOf(delim, i + delim.length)) {
    if (i === 0 || body[i - 1] === "\n") lines.push(i);
  }
  const out: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const i = lines[k];
    if (body.startsWith(`${delim}--`, i)) break;
    const start = body.indexOf("\n", i);
    if (start < 0) break;
    const end = k + 1 < lines.length ? lines[k + 1] - 1 : body.length;
    out.push(body.slice(start + 1, Math.max(start + 1, end)));
  }
  return out;
}

/** RFC 3464 §2.1: a per-message group, then one group per recipient, separated by blank lines. */
function dsnGroups(text: string): HeaderMap[] {
  return text
    .split(/\n[ \t]*\n/)
    .slice(0, MAX_PARTS)
    .map((g) => parseHeaderBlock(g))
    .filter((g) => g.size > 0);
}

const field = (h: HeaderMap, name: string) => h.get(name)?.[0]?.trim() || null;
/** "rfc822; bob@x" → "bob@x"; "smtp; 550 …" → "550 …" (RFC 3464 §2.3.2, §2.3.6: type; value). */
const typed = (v: string | null) => (v === null ? null : v.includes(";") ? v.slice(v.indexOf(";") + 1).trim() : v);

const STATUS = /(?:^|[^\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/;
// In free text (a text bounce, a Diagnostic-Code) a code stands as a word of an SMTP reply or a
// report line: after white space, "#", "(", ":", "[", "<" or a quote, or a reply code's "-"
// ("550-5.1.1"); never inside a version ("MOS 4.4.4b-GA", "mta-5.5.0-3", "v4.6.1"). A failure's
// code (RFC 3463: 4 persistent transient, 5 permanent) first, then any.
const textCode = (classes: string) => new RegExp(`(?:^|[\\s#(:[<'"]|\\d{3}-)([${classes}]\\.\\d{1,3}\\.\\d{1,3})(?![.-]?\\w)`);
const TEXT_FAILURE = textCode("45");
const TEXT_STATUS = textCode("245");
const MESSAGE_ID_LINE = /^message-id:[ \t]*(<[^<>\s]{1,250}>)/gim;

function messageIdOf(headers: HeaderMap): string | null {
  const v = headers.get("message-id")?.[0];
  const m = v ? /<[^<>\s]{1,250}>/.exec(v) : null;
  return m ? m[0] : null;
}

export function readReport(message: string): DeliveryReport {
  const text = message.slice(0, MAX_SCAN).replace(/\r\n?/g, "\n");
  const report: DeliveryReport = { kind: "text", action: null, status: null, diagnostic: null, finalRecipient: null, envelopeId: null, originalMessageIds: [] };
  const ids = new Set<string>();
  let recipients: HeaderMap[] = [];
  let seen = 0;
  // The readable text: text/plain parts decoded (a quoted-printable soft break can split a code:
  // "5.1.=\n1"; base64 hides it), bounded as the scan is.
  const readable: string[] = [];
  let readableLength = 0;
  const walk = (p: Part, depth: number, top: boolean) => {
    if (++seen > MAX_PARTS) return;
    const { type, boundary } = typeOf(p);
    if (type.startsWith("multipart/") && boundary && depth < MAX_DEPTH) {
      for (const c of children(p.body, boundary)) walk(splitPart(c), depth + 1, false);
      return;
    }
    if (type === "text/plain" && readableLength < TEXT_SCAN) {
      const t = decodeBody(p).replace(/\r\n?/g, "\n").slice(0, TEXT_SCAN - readableLength);
      readable.push(t);
      readableLength += t.length;
    }
    if (top) return;
    if (DSN_TYPES.includes(type)) {
      const [perMessage, ...perRecipient] = dsnGroups(decodeBody(p).replace(/\r\n?/g, "\n"));
      report.kind = "delivery-status";
      report.envelopeId ??= perMessage ? field(perMessage, "original-envelope-id") : null;
      recipients = recipients.concat(perRecipient);
    } else if (type === "message/feedback-report") {
      const fields = parseHeaderBlock(decodeBody(p));
      if (report.kind !== "delivery-status") report.kind = "feedback";
      report.status ??= field(fields, "feedback-type")?.toLowerCase() ?? "abuse";
      const orig = field(fields, "original-envelope-id");
      report.envelopeId ??= orig;
    } else if (type === "message/disposition-notification") {
      // RFC 8098 §3.2.6: "Disposition: automatic-action/MDN-sent-automatically; displayed".
      const disposition = field(parseHeaderBlock(decodeBody(p)), "disposition");
      if (report.kind === "text") report.kind = "disposition";
      report.action ??= disposition?.includes(";") ? disposition.slice(disposition.indexOf(";") + 1).trim().toLowerCase() : "displayed";
    } else if (ORIGINAL_TYPES.includes(type)) {
      const id = messageIdOf(splitPart(decodeBody(p).replace(/\r\n?/g, "\n")).headers);
      if (id) ids.add(id);
    }
  };
  const top = splitPart(text);
  walk(top, 0, true);

  if (recipients.length) {
    // The recipient the report is about: a failed one first, else the first.
    const pick = [...recipients].sort((a, b) => rank(field(a, "action")) - rank(field(b, "action")))[0];
    report.action = field(pick, "action")?.toLowerCase() ?? null;
    const status = STATUS.exec(field(pick, "status") ?? "");
    report.status = status ? status[1] : report.status;
    const diag = typed(field(pick, "diagnostic-code"));
    report.diagnostic = diag ? cleanText(diag) : null;
    report.status = refined(report.status, diag);
    report.finalRecipient = typed(field(pick, "final-recipient") ?? field(pick, "original-recipient"));
  }
  if (report.kind === "feedback") report.action = "feedback";
  // Quoted header lines of the original (text bounces, and reports whose original part is text/plain).
  for (const source of [top.body, ...readable]) {
    for (const m of source.matchAll(MESSAGE_ID_LINE)) {
      if (ids.size >= 20) break;
      ids.add(m[1]);
    }
  }
  report.originalMessageIds = [...ids];
  if (report.status === null && report.kind !== "feedback") {
    // No RFC 3464 status: the first failure code of the text (a session transcript's "250 2.0.0 Ok"
    // comes before the reply that failed), else its first code, and the line it stands in. The
    // decoded text parts first, then the raw body (a code in a part of another type).
    const scan = (body: string) => {
      const m = TEXT_FAILURE.exec(body) ?? TEXT_STATUS.exec(body);
      return m && { m, body };
    };
    const found = scan(readable.join("\n")) ?? scan(top.body.slice(0, TEXT_SCAN));
    if (found) {
      const { m, body } = found;
      report.status = m[1];
      const lineStart = body.lastIndexOf("\n", m.index) + 1;
      const lineEnd = body.indexOf("\n", m.index + 1);
      report.diagnostic ??= cleanText(body.slice(lineStart, lineEnd < 0 ? undefined : lineEnd));
    }
  }
  if (report.diagnostic) report.diagnostic = cleanText(report.diagnostic);
  return report;
}

/**
 * RFC 3463 §3.1: X.0.0 is "other undefined status", the class alone. Many MTAs write that in Status
 * and quote the receiving server's own reply, with its specific code, in Diagnostic-Code (Exim,
 * Postfix, Amazon SES: "Status: 5.0.0", "smtp; 550 5.7.1 …"). A specific code of the same class
 * there says more; a code of another class quotes something else (an earlier attempt) and is left.
 */
function refined(status: string | null, diagnostic: string | null): string | null {
  if (!status || !/^[45]\.0\.0$/.test(status) || !diagnostic) return status;
  const m = TEXT_FAILURE.exec(diagnostic.slice(0, 4096));
  return m && m[1][0] === status[0] && !/^\d\.0\.0$/.test(m[1]) ? m[1] : status;
}

function rank(action: string | null): number {
  const i = ACTION_ORDER.indexOf((action ?? "").toLowerCase());
  return i < 0 ? ACTION_ORDER.length : i;
}

export type ReportVerdict = "bounced" | "feedback" | "delayed" | "delivered" | "unknown";

/**
 * What the report means for our mail: only a failure or a complaint marks it bounced. `delayNotice`:
 * the subject says it is a delay warning (Exim, Postfix and Exchange write those as plain text).
 */
export function verdictOf(r: DeliveryReport, delayNotice = false): ReportVerdict {
  if (r.kind === "feedback") return "feedback";
  // A read receipt of our mail: it arrived (whatever the reader did with it).
  if (r.kind === "disposition") return "delivered";
  if (r.action === "failed") return "bounced";
  if (r.action === "delayed") return "delayed";
  if (r.action === "delivered" || r.action === "relayed" || r.action === "expanded") return "delivered";
  if (r.kind === "delivery-status") return r.status?.startsWith("5") ? "bounced" : r.status?.startsWith("4") ? "delayed" : "unknown";
  if (delayNotice) return "delayed";
  return r.status?.startsWith("5") || r.status?.startsWith("4") ? "bounced" : "unknown";
}
