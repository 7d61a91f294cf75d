// issue 13: who wrote a mail that came back on the bounce path, read from detect-auto's reasons. A
// mail system's report counts even when it has no RFC 3464 part (qmail, old Exim) or states no code.
// A person's auto-responder (an out-of-office reply, which RFC 3834 sends to the envelope sender:
// our bounce address) reports nothing, whatever code-like text it holds ("back on 5.1.24"). A null
// sender alone tells neither: mail systems use it for their reports (RFC 5321 §4.5.5) and many
// auto-responders for their replies.

/** Marks only a mail system's report carries. */
const SYSTEM_REPORT = [
  "sender is mailer-daemon",
  "sender is postmaster",
  "sender is post_master",
  "sender is an exchange",
  "from: <>",
  "x-failed-recipients",
  "subject: delivery report",
  "content-type:",
  "report part:",
];
const NULL_SENDER = ["return-path: <>", "null envelope sender"];
/** An auto-responder's marks: RFC 3834 Auto-Submitted: auto-replied, X-Autoreply, an auto-reply subject. */
const AUTO_REPLY = [
  "auto-submitted: auto-replied",
  "x-autoreply",
  "x-autorespond",
  "precedence: auto_reply",
  "subject: auto-reply",
  "x-ms-exchange-inbox-rules-loop with",
  "x-auto-response-suppress with",
];

const any = (reasons: readonly string[], marks: readonly string[]) => reasons.some((r) => marks.some((m) => r.startsWith(m)));

/** A person's automatic reply: an auto-responder's mark and none of a mail system's report. */
export function personsAutoReply(reasons: readonly string[]): boolean {
  return any(reasons, AUTO_REPLY) && !any(reasons, SYSTEM_REPORT);
}

/** A mail system wrote it (a null sender counts, unless it is a person's automatic reply). */
export function writtenByMailSystem(reasons: readonly string[]): boolean {
  return any(reasons, SYSTEM_REPORT) || (any(reasons, NULL_SENDER) && !personsAutoReply(reasons));
}
