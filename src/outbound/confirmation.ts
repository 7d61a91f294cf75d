// The confirmation a new issue's sender receives (domain.md §5, Enate): the reference in the subject,
// the unique token in the body, a Message-ID that names the issue (§3.1) and a Reply-To that carries
// the ids (§2), so that whichever way the customer answers, the reply finds its issue again.
import { bodyToken } from "../match/body-token.js";
import { outboundMessageId } from "../match/message-id.js";
import type { OutgoingMail } from "../pipeline/deps.js";
import { idAddress } from "../rules/address-ids.js";
import { bareAddress } from "../rules/confirm.js";
import { headerText } from "./header-safe.js";

export interface ConfirmationInput {
  from: string;
  to: string;
  issue: { id: number; guid: string; reference: string; userIdentificationId: number };
  /** The original mail. */
  subject: string | null;
  messageId: string | null;
  references: string[];
  /** The support address the customer wrote to (ids removed); the Reply-To is built on it. */
  supportAddress: string;
  addressSecret: string | null;
  mailGuid: string;
  host: string;
  date: Date;
}

export function confirmationSubject(reference: string, subject: string | null): string {
  // Issue 10: control characters removed, the whole subject at most 200 characters.
  const s = headerText(subject ?? "");
  if (!s) return `[${reference}] We have received your request`;
  return headerText(`[${reference}] ${/^(re|aw|sv|odp|antw)\s*:/i.test(s) ? s : `Re: ${s}`}`);
}

export function renderConfirmation(i: ConfirmationInput): OutgoingMail {
  const ref = i.issue.reference;
  const text = [
    "Hello,",
    "",
    `Thank you for your message. We have opened ${ref} for it`,
    "and will come back to you.",
    "",
    "To add anything, reply to this mail and keep the reference",
    "in the subject.",
    "",
    // Short lines keep the mail 7bit, so the token is never split by a soft line break.
    `Reference: ${bodyToken(i.issue.guid)}`,
    "",
  ].join("\n");
  return {
    from: i.from,
    to: i.to,
    subject: confirmationSubject(ref, i.subject),
    text,
    messageId: outboundMessageId(i.mailGuid, i.issue.guid, i.host),
    date: i.date,
    ...threadHeaders(i.messageId, i.references),
    ...(i.supportAddress.includes("@") ? { replyTo: idAddress(i.supportAddress, i.issue.userIdentificationId, i.issue.id, i.addressSecret) } : {}),
    headers: {
      // RFC 3834 §5: a response to a message is auto-replied; the header stops other robots answering.
      "Auto-Submitted": "auto-replied",
      // Exchange's out-of-office and read receipts would otherwise answer the confirmation.
      "X-Auto-Response-Suppress": "All",
      // Issue 10: our own mail, should it come back, is recognised and ignored (rules/own-mail.ts).
      "X-Loop": bareAddress(i.from),
    },
  };
}

/**
 * A message id as it may go into our headers: printable ASCII in angle brackets, at most 250
 * characters (RFC 5322 §3.6.4 msg-id; lines are at most 998). The mail's own ids may carry
 * anything: escapes, bidi controls, a 900 KB run of `<`.
 */
const SAFE_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]{1,248}>$/;
/** References kept: the thread's first and its last ones (a mail may bring 80,000). */
const MAX_REFERENCES = 20;

/** In-Reply-To and References (RFC 5322 §3.6.4: the parent's References, then its Message-ID), of ids safe to write. */
export function threadHeaders(messageId: string | null, references: string[]): { inReplyTo: string | null; references: string[] } {
  const parent = messageId && SAFE_ID.test(messageId) ? messageId : null;
  const chain = [...references.filter((r) => SAFE_ID.test(r)), ...(parent ? [parent] : [])];
  return { inReplyTo: parent, references: chain.length > MAX_REFERENCES ? [chain[0], ...chain.slice(-(MAX_REFERENCES - 1))] : chain };
}
