// The console's only way into the pipeline's write paths: resubmit (Maximo, domain.md §1.6) and
// outbox retry. One small file so that issue 9's rewrite (processStaged, `outbox retry`) is rewired
// here in a few lines.
import { getIssue, getStaged, inWriteTx, setStagedStatus, updateOutbound } from "../db/queries.js";
import { RESUBMITTABLE } from "../db/web-queries.js";
import { stmt } from "../db/sql.js";
import { renderAdminNotice } from "../outbound/admin-notice.js";
import { renderConfirmation } from "../outbound/confirmation.js";
import type { Deps, OutgoingMail } from "../pipeline/deps.js";
import { processStaged } from "../pipeline/ingest.js";
import type { Outcome } from "../pipeline/outcome.js";
import { bareAddress } from "../rules/confirm.js";

export type ResubmitResult = { ok: true; outcome: Outcome } | { ok: false; reason: string };

/** What `ingest-mail resubmit ID [--subject T]` does, as a value instead of output. */
export async function resubmit(deps: Deps, id: number, subject?: string): Promise<ResubmitResult> {
  const fixed = subject?.replace(/[\r\n]+/g, " ").trim();
  if (subject !== undefined && !fixed) return { ok: false, reason: "the subject must not be empty" };
  const previous = inWriteTx(deps.db, () => {
    const row = getStaged(deps.db, id);
    if (!row) return { reason: `no staged mail ${id}` };
    if (!(RESUBMITTABLE as readonly string[]).includes(row.status)) return { reason: `staged mail ${id} is ${row.status}; only ${RESUBMITTABLE.join(", ")} mail can be resubmitted` };
    const patch = { error: null, reason: null, ...(fixed ? { subject: fixed } : {}) };
    setStagedStatus(deps.db, id, "new", deps.now().toISOString(), patch, `resubmitted from the web console${fixed ? ` with subject "${fixed}"` : ""}`);
    return { status: row.status };
  });
  if ("reason" in previous) return { ok: false, reason: previous.reason! };
  // As the CLI: releasing a held mail overrules the flood limit.
  return { ok: true, outcome: await processStaged(deps, id, { skipFlood: previous.status === "held" }) };
}

export type RetryResult = { ok: true; status: "sent" | "failed"; error: string | null } | { ok: false; reason: string };

const SENT_ID = /^<(?:([0-9a-f-]{36})\.[0-9a-f-]{36}|([0-9a-f-]{36}))@([^>\s]+)>$/i;

/**
 * Sends a failed outbound mail again with its original Message-ID (a reply to either copy still
 * finds the issue). Stands in for issue 9's `outbox retry` until that lands.
 */
export async function retryOutbound(deps: Deps, id: number): Promise<RetryResult> {
  const row = stmt(deps.db, `SELECT id, kind, issue_id AS issueId, staged_mail_id AS stagedMailId, to_address AS toAddress, message_id AS messageId, status FROM outbound_mails WHERE id = ?`).get(id) as
    | { id: number; kind: string; issueId: number | null; stagedMailId: number | null; toAddress: string; messageId: string; status: string }
    | undefined;
  if (!row) return { ok: false, reason: `no outbound mail ${id}` };
  if (row.status !== "failed") return { ok: false, reason: `outbound mail ${id} is ${row.status}; only failed mail is sent again` };
  const m = SENT_ID.exec(row.messageId);
  const staged = row.stagedMailId ? getStaged(deps.db, row.stagedMailId) : undefined;
  if (!m || !staged) return { ok: false, reason: `outbound mail ${id} cannot be rebuilt (its staged mail or Message-ID is gone)` };
  const [, confirmGuid, noticeGuid, host] = m;
  const { config } = deps;
  let mail: OutgoingMail;
  if (row.kind === "confirmation" && confirmGuid && row.issueId) {
    const issue = getIssue(deps.db, row.issueId);
    if (!issue?.reference) return { ok: false, reason: `outbound mail ${id}: issue ${row.issueId} is gone` };
    mail = renderConfirmation({
      from: config.outbound.from,
      to: row.toAddress,
      issue: { id: issue.id, guid: issue.guid, reference: issue.reference, userIdentificationId: issue.userIdentificationId },
      subject: staged.subject,
      messageId: staged.messageId,
      references: staged.references ? staged.references.split(" ") : [],
      supportAddress: issue.recipient ?? config.supportAddresses[0] ?? bareAddress(config.outbound.from),
      addressSecret: config.addressSecret,
      mailGuid: confirmGuid.toLowerCase(),
      host,
      date: deps.now(),
    });
  } else if (row.kind === "admin-error" && noticeGuid) {
    mail = renderAdminNotice({ from: config.outbound.from, to: row.toAddress, staged, error: staged.error ?? "(resent)", dbPath: deps.paths.db, mailGuid: noticeGuid, host, date: deps.now() });
  } else return { ok: false, reason: `outbound mail ${id} (${row.kind}) cannot be rebuilt` };
  let result: { status: "sent" | "failed"; error: string | null };
  try {
    await (await deps.mailer()).send(mail);
    result = { status: "sent", error: null };
  } catch (e) {
    result = { status: "failed", error: (e as Error).message || String(e) };
  }
  updateOutbound(deps.db, id, result);
  return { ok: true, ...result };
}
