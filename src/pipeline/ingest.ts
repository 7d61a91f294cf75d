// The ingest orchestrator: the order of the stages is written here and only here.
//   read → parse → stage (commit) → in_process → [workflow: identify → match → state rules →
//   open issue → record] (one commit) → complete → outbound mail
import { isStorageFault, NotFoundError } from "../errors.js";
import { attachmentsOf, countIssuesOpenedSince, getIssue, getStaged, inWriteTx, setStagedStatus, splitChildrenOf, updateIssue, type Issue, type StagedMail } from "../db/queries.js";
import { baseAddress } from "../rules/address-ids.js";
import { planDelivery } from "../rules/deliver.js";
import { detectAuto, type AutoDetection } from "../rules/detect-auto.js";
import { parseHeaderBlock } from "../rules/headers.js";
import type { Deps } from "./deps.js";
import { identifyByAddressIds, identifySender, supportLevelOf } from "./identify.js";
import { matchIssue } from "./match.js";
import { openIssue, reassignment } from "./open-issue.js";
import { notifyError, sendConfirmations, type CreatedIssue } from "./outbound.js";
import { emptyOutcome, type IssueOutcome, type Outcome, type TraceStep } from "./outcome.js";
import { emptyParsedMail, parseMail, type ParsedMail } from "./parse.js";
import { rawStream, readRaw } from "./read-raw.js";
import { chooseRecipient } from "./recipient.js";
import { recordMail } from "./record.js";
import { stageMail, type Envelope } from "./stage.js";

export interface IngestOptions {
  source: string;
  /** fsync the staging commit and spool files (stdin, poll: yes; import relaxes it, its source files remain). */
  durable?: boolean;
}

/** Stages one message and processes it. Throws only when the mail could not be staged. */
export async function ingest(deps: Deps, input: AsyncIterable<Buffer | string>, envelope: Envelope, opts: IngestOptions): Promise<Outcome> {
  const raw = await readRaw(input, { spoolDir: deps.paths.spoolDir, inlineMaxBytes: deps.config.inlineRawMaxBytes, durable: opts.durable });
  let parsed: ParsedMail = emptyParsedMail();
  let fault: { status: "invalid" | "error"; text: string } | undefined;
  if (raw.size > deps.config.limits.maxMessageBytes) {
    fault = { status: "invalid", text: `message of ${raw.size} bytes is larger than limits.maxMessageBytes (${deps.config.limits.maxMessageBytes})` };
  } else {
    try {
      parsed = await parseMail(rawStream(raw), deps.paths.attachmentsDir);
    } catch (e) {
      if (isStorageFault(e)) throw e;
      fault = { status: "error", text: `cannot parse message: ${(e as Error).message}` };
    }
  }
  const staged = stageMail(deps, { raw, parsed, envelope, source: opts.source, fault, durable: opts.durable });
  if (staged.duplicateOf !== null) {
    const out = emptyOutcome(staged.stagedId, "duplicate");
    out.duplicateOf = staged.duplicateOf;
    out.trace.push({ step: "stage", decision: "duplicate", reason: `same ${parsed.messageId ? "Message-ID" : "content"} as staged mail ${staged.duplicateOf}` });
    return out;
  }
  if (staged.status !== "new") {
    const row = getStaged(deps.db, staged.stagedId)!;
    const out = outcomeOf(row);
    if (staged.status === "error") out.outbound = await notifyError(deps, row, row.error ?? "");
    return out;
  }
  return processStaged(deps, staged.stagedId);
}

export interface ProcessOptions {
  /** resubmit: the administrator released a held mail, so the flood limit does not hold it again. */
  skipFlood?: boolean;
}

/** Processes a staged record in status `new` (fresh, resubmitted or recovered). */
export async function processStaged(deps: Deps, stagedId: number, opts: ProcessOptions = {}): Promise<Outcome> {
  const at = () => deps.now().toISOString();
  // Claim the record: new → in_process with attempts + 1, in one transaction. `recover` may claim a
  // record again while its first processor still runs; the attempt number tells the slower one it
  // lost, so the work is never recorded twice.
  const claim = inWriteTx(deps.db, () => {
    const found = getStaged(deps.db, stagedId);
    if (!found) throw new NotFoundError(`no staged mail ${stagedId}`);
    if (found.status !== "new") return { row: found, claimed: false };
    setStagedStatus(deps.db, stagedId, "in_process", at(), { attempts: found.attempts + 1 });
    return { row: { ...found, status: "in_process", attempts: found.attempts + 1 }, claimed: true };
  });
  const row = claim.row;
  if (!claim.claimed) return outcomeOf(row);
  const trace: TraceStep[] = [{ step: "stage", decision: `staged as ${stagedId}`, reason: `${row.rawSize} bytes from ${row.source}` }];
  try {
    // domain.md §1.4 (Maximo): no subject → invalid, kept, not processed.
    if (deps.config.requireSubject && !row.subject) {
      const reason = "the message has no subject";
      trace.push({ step: "validate", decision: "invalid", reason });
      setStagedStatus(deps.db, stagedId, "invalid", at(), { reason, trace: JSON.stringify(trace) }, reason);
      return outcomeOf(getStaged(deps.db, stagedId)!);
    }
    const auto = detectAuto({
      headers: parseHeaderBlock(row.headers),
      envelopeSender: row.envelopeSender,
      fromAddress: row.fromAddress,
      partTypes: attachmentsOf(deps.db, stagedId).map((a) => a.contentType ?? ""),
    });
    if (auto.autoGenerated) trace.push({ step: "detect-auto", decision: "auto-generated", reason: auto.reasons.join("; ") });
    const support = deps.config.supportAddresses.map((a) => a.toLowerCase());
    const split = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);
    const rcpt = chooseRecipient({ envelope: row.envelopeRecipient, deliveredTo: split(row.deliveredTo), to: split(row.toAddresses), cc: split(row.ccAddresses), supportAddresses: support });
    trace.push({ step: "recipient", decision: rcpt.recipient ?? "none", reason: `from ${rcpt.source}` });

    const result = inWriteTx(deps.db, () => workflow(deps, row, rcpt.recipient, support, auto, trace, opts));
    const outcome = result.outcome;
    const toConfirm = result.created.filter((c) => c.route.sendResponse);
    if (toConfirm.length) {
      outcome.outbound = await sendConfirmations(deps, {
        staged: getStaged(deps.db, stagedId)!,
        created: toConfirm,
        userIdentificationId: outcome.userIdentificationId!,
        autoGenerated: auto.autoGenerated,
        supportAddress: rcpt.recipient ? baseAddress(rcpt.recipient, support) : null,
        trace: outcome.trace,
      });
    }
    return outcome;
  } catch (e) {
    const text = (e as Error).stack?.split("\n").slice(0, 2).join(" ") ?? String(e);
    trace.push({ step: "error", decision: "error", reason: (e as Error).message ?? String(e) });
    try {
      setStagedStatus(deps.db, stagedId, "error", at(), { error: text, trace: JSON.stringify(trace) }, (e as Error).message);
    } catch {
      // The database refused even the error status: the record stays in_process for `recover`.
    }
    const out = outcomeOf(getStagedSafe(deps, stagedId) ?? row);
    out.status = "error";
    out.error = (e as Error).message;
    out.trace = trace;
    out.outbound = await notifyError(deps, row, (e as Error).message).catch(() => []);
    return out;
  }
}

interface WorkflowResult {
  outcome: Outcome;
  created: CreatedIssue[];
}

// Everything for one message in one transaction (domain.md §7).
function workflow(deps: Deps, row: StagedMail, recipient: string | null, support: string[], auto: AutoDetection, trace: TraceStep[], opts: ProcessOptions): WorkflowResult {
  const at = deps.now().toISOString();
  const current = getStaged(deps.db, row.id)!;
  if (current.status !== "in_process" || current.attempts !== row.attempts) {
    // Claimed again by another process (recover) since we took it: that one records it.
    const out = outcomeOf(current);
    out.trace = [...trace, { step: "claim", decision: "left to another process", reason: `attempt ${row.attempts} was superseded (now ${current.status}, attempt ${current.attempts})` }];
    return { outcome: out, created: [] };
  }
  const autoFields = { autoGenerated: auto.autoGenerated, autoReasons: JSON.stringify(auto.reasons) };
  setStagedStatus(deps.db, row.id, "workflow", at, autoFields);
  const outcome = { ...emptyOutcome(row.id, "complete"), autoGenerated: auto.autoGenerated, autoReasons: auto.reasons };

  // 0. Case 1: ids in the address, when the issue really belongs to that identification.
  const byAddress = identifyByAddressIds(deps, recipient, support);
  trace.push(...byAddress.trace);
  let uid = byAddress.userIdentificationId;
  let supportLevel = byAddress.supportLevel;
  let matched: { issue: Issue; matchedBy: string } | null = byAddress.issue ? { issue: byAddress.issue, matchedBy: "address-ids" } : null;
  // Case 2: who the sender is.
  if (uid === null) {
    const w = identifySender(deps, row.fromAddress ?? (row.envelopeSender || null), row.fromName);
    uid = w.userIdentificationId;
    supportLevel = w.supportLevel;
    trace.push(w.trace);
  }
  // 1-4: Enate's matchers, first hit wins.
  if (!matched) {
    const m = matchIssue(deps, { inReplyTo: row.inReplyTo, references: row.references ? row.references.split(" ") : [], subject: row.subject, text: row.textBody, senderEmail: row.fromAddress });
    trace.push(...m.trace);
    if (m.candidate) matched = { issue: m.candidate.issue, matchedBy: m.candidate.matchedBy };
  }

  const issuesOut: IssueOutcome[] = [];
  const created: CreatedIssue[] = [];
  const targetIds: number[] = [];
  let followsClosed: Issue | null = null;
  if (matched) {
    const plan = planDelivery(matched.issue, { get: (id) => getIssue(deps.db, id), splitChildren: (id) => splitChildrenOf(deps.db, id) });
    trace.push(...plan.trace);
    for (const t of plan.targets) {
      // Assignment rules look at the issue's customer (Salesforce: the case contact's account), not
      // at whoever wrote this mail.
      const patch = { ...t.patch, ...(t.reassign ? reassignment(deps, t.issue, supportLevelOf(deps, t.issue.userIdentificationId)) : {}), updatedAt: at };
      const updated = updateIssue(deps.db, t.issue.id, patch);
      targetIds.push(updated.id);
      issuesOut.push({ issueId: updated.id, reference: updated.reference!, created: false, reopened: t.reopened, matchedBy: matched.matchedBy, state: updated.state });
    }
    for (const p of plan.parentUpdates) updateIssue(deps.db, p.issue.id, { ...p.patch, updatedAt: at });
    followsClosed = plan.newIssueFollowing;
  }
  if (targetIds.length === 0) {
    const flood = deps.config.flood;
    if (flood && !opts.skipFlood) {
      const since = new Date(deps.now().getTime() - flood.windowMinutes * 60_000).toISOString();
      const n = countIssuesOpenedSince(deps.db, uid, since);
      if (n >= flood.maxNewIssues) {
        const reason = `flood: ${n} new issues from this sender in ${flood.windowMinutes} minutes (limit ${flood.maxNewIssues})`;
        trace.push({ step: "flood", decision: "held", reason });
        setStagedStatus(deps.db, row.id, "held", at, { reason, userIdentificationId: uid, trace: JSON.stringify(trace) }, reason);
        return { outcome: { ...outcome, status: "held", userIdentificationId: uid, reason, trace }, created: [] };
      }
    }
    const address = recipient ? baseAddress(recipient, support) : null;
    const opened = openIssue(deps, { userIdentificationId: uid, supportLevel, address, subject: row.subject, followsClosed });
    trace.push(...opened.trace);
    // Decided here, inside the transaction, so mail on a silent route costs no outbound work at all.
    if (!opened.route.sendResponse) trace.push({ step: "confirm", decision: `no confirmation for ${opened.issue.reference}`, reason: "the route does not send a response" });
    created.push({ issue: opened.issue, route: opened.route });
    targetIds.push(opened.issue.id);
    issuesOut.push({ issueId: opened.issue.id, reference: opened.issue.reference!, created: true, reopened: false, matchedBy: null, state: opened.issue.state });
  }

  const rec = recordMail(deps, row, uid, targetIds);
  trace.push({ step: "record", decision: `interaction ${rec.interactionId}, actions ${rec.actionIds.join(", ")}`, reason: "one action per issue" });
  setStagedStatus(deps.db, row.id, "complete", at, { userIdentificationId: uid, interactionId: rec.interactionId, trace: JSON.stringify(trace) });
  Object.assign(outcome, { userIdentificationId: uid, interactionId: rec.interactionId, actionIds: rec.actionIds, issues: issuesOut, trace });
  return { outcome, created };
}

/** The outcome as it can be read back from a staged record (for statuses that stop early). */
export function outcomeOf(row: StagedMail): Outcome {
  const out = emptyOutcome(row.id, row.status);
  out.duplicateOf = row.duplicateOf;
  out.userIdentificationId = row.userIdentificationId;
  out.interactionId = row.interactionId;
  out.autoGenerated = row.autoGenerated ?? false;
  out.autoReasons = row.autoReasons ? JSON.parse(row.autoReasons) : [];
  out.trace = row.trace ? JSON.parse(row.trace) : [];
  out.reason = row.reason;
  out.error = row.error;
  return out;
}

function getStagedSafe(deps: Deps, id: number): StagedMail | undefined {
  try {
    return getStaged(deps.db, id);
  } catch {
    return undefined;
  }
}

