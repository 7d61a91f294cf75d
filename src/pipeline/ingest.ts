// The ingest orchestrator: the order of the stages is written here and only here.
//   read → parse → stage (durable commit) → [claim (in_process) → workflow: identify → match →
//   state rules → open issue → record → complete] (one commit) → outbound mail
import { isStorageFault, NotFoundError } from "../errors.js";
import { countIssuesOpenedSince, getIssue, getStaged, inWriteTx, setStagedStatus, splitChildrenOf, stagedStatus, updateIssue, type Issue, type StagedMail } from "../db/queries.js";
import { baseAddress } from "../rules/address-ids.js";
import { planDelivery } from "../rules/deliver.js";
import type { Deps } from "./deps.js";
import { handleBounce } from "./bounce.js";
import { detectStaged } from "./detect.js";
import { identifyByAddressIds, identifySender, supportLevelOf } from "./identify.js";
import { matchIssue } from "./match.js";
import { openIssue, reassignment } from "./open-issue.js";
import { notifyError, sendConfirmations, type CreatedIssue } from "./outbound.js";
import { emptyOutcome, type IssueOutcome, type Outcome, type TraceStep } from "./outcome.js";
import { emptyParsedMail, parseMail, type ParsedMail } from "./parse.js";
import { rawStream, readRaw, type RawMessage } from "./read-raw.js";
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
  return ingestPrepared(deps, await prepare(input, prepareSettings(deps, opts)), envelope, opts);
}

/** What the first two stages need: no database, so `import` can run them on other threads. */
export interface PrepareSettings {
  spoolDir: string;
  attachmentsDir: string;
  inlineMaxBytes: number;
  maxMessageBytes: number;
  durable?: boolean;
}

export function prepareSettings(deps: Deps, opts: Pick<IngestOptions, "durable">): PrepareSettings {
  const { paths, config } = deps;
  return { spoolDir: paths.spoolDir, attachmentsDir: paths.attachmentsDir, inlineMaxBytes: config.inlineRawMaxBytes, maxMessageBytes: config.limits.maxMessageBytes, durable: opts.durable };
}

/** A message read and parsed, ready to stage. */
export interface Prepared {
  raw: RawMessage;
  parsed: ParsedMail;
  /** Set when the mail cannot go further: invalid (too large) or error (unparseable). */
  fault?: { status: "invalid" | "error"; text: string };
}

/** read → parse. Throws only on a storage fault (spool or attachment files cannot be written). */
export async function prepare(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, s: PrepareSettings): Promise<Prepared> {
  const raw = await readRaw(input, { spoolDir: s.spoolDir, inlineMaxBytes: s.inlineMaxBytes, durable: s.durable });
  if (raw.size > s.maxMessageBytes) {
    return { raw, parsed: emptyParsedMail(), fault: { status: "invalid", text: `message of ${raw.size} bytes is larger than limits.maxMessageBytes (${s.maxMessageBytes})` } };
  }
  try {
    return { raw, parsed: await parseMail(raw.buffer ?? rawStream(raw), s.attachmentsDir) };
  } catch (e) {
    if (isStorageFault(e)) throw e;
    return { raw, parsed: emptyParsedMail(), fault: { status: "error", text: `cannot parse message: ${(e as Error).message}` } };
  }
}

/** stage (commit) → process. Throws only when the mail could not be staged. */
export async function ingestPrepared(deps: Deps, { raw, parsed, fault }: Prepared, envelope: Envelope, opts: IngestOptions): Promise<Outcome> {
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
  return processStaged(deps, staged.stagedId, { staged: staged.row });
}

export interface ProcessOptions {
  /** resubmit: the administrator released a held mail, so the flood limit does not hold it again. */
  skipFlood?: boolean;
  /** The record as this process just staged it: only its status is checked, not read again. */
  staged?: StagedMail;
}

/** Processes a staged record in status `new` (fresh, resubmitted or recovered). */
export async function processStaged(deps: Deps, stagedId: number, opts: ProcessOptions = {}): Promise<Outcome> {
  let result: WorkflowResult;
  // Kept out here so that a failure's record shows how far the workflow got before it rolled back.
  const trace: TraceStep[] = [];
  try {
    // Claim and workflow are one write transaction: the write lock is the claim, so two processors
    // (a slow ingest and `recover`) cannot both record the mail, and a crash leaves the record `new`
    // with nothing half-done. One commit per mail instead of three (issue 5: throughput).
    result = inWriteTx(deps.db, () => {
      const known = opts.staged;
      const current = known && stagedStatus(deps.db, stagedId);
      const row = current && current.status === known.status && current.attempts === known.attempts ? known : getStaged(deps.db, stagedId);
      if (!row) throw new NotFoundError(`no staged mail ${stagedId}`);
      if (row.status !== "new") return { outcome: outcomeOf(row), created: [], readBack: false };
      return workflow(deps, { ...row, status: "in_process", attempts: row.attempts + 1 }, trace, opts);
    });
  } catch (e) {
    if (e instanceof NotFoundError) throw e;
    return failed(deps, stagedId, e as Error, trace);
  }
  if (result.readBack) return outcomeOf(getStaged(deps.db, stagedId)!);
  const outcome = result.outcome;
  const toConfirm = result.created.filter((c) => c.route.sendResponse);
  if (toConfirm.length) {
    outcome.outbound = await sendConfirmations(deps, {
      staged: getStaged(deps.db, stagedId)!,
      created: toConfirm,
      userIdentificationId: outcome.userIdentificationId!,
      autoGenerated: outcome.autoGenerated,
      supportAddress: result.supportAddress ?? null,
      trace: outcome.trace,
    });
  }
  return outcome;
}

/** domain.md §1.5: the workflow threw (and rolled back): the record becomes `error` with the text. */
async function failed(deps: Deps, stagedId: number, e: Error, steps: TraceStep[]): Promise<Outcome> {
  const at = deps.now().toISOString();
  const text = e.stack?.split("\n").slice(0, 2).join(" ") ?? String(e);
  const trace: TraceStep[] = [...steps, { step: "error", decision: "error", reason: e.message ?? String(e) }];
  let row: StagedMail | undefined;
  try {
    row = inWriteTx(deps.db, () => {
      const current = getStaged(deps.db, stagedId);
      if (!current || current.status !== "new") return current;
      setStagedStatus(deps.db, stagedId, "error", at, { attempts: current.attempts + 1, error: text, trace: JSON.stringify(trace) }, e.message, ["in_process"]);
      return getStaged(deps.db, stagedId);
    });
  } catch {
    // The database refused even the error status: the record stays `new` for `recover`.
  }
  const out = row ? outcomeOf(row) : emptyOutcome(stagedId, "error");
  out.status = "error";
  out.error = e.message;
  out.trace = trace;
  out.outbound = row ? await notifyError(deps, row, e.message).catch(() => []) : [];
  return out;
}

interface WorkflowResult {
  outcome: Outcome;
  created: CreatedIssue[];
  /** The record stopped early (invalid, held, not ours): its outcome is read back after commit. */
  readBack: boolean;
  supportAddress?: string | null;
}

// Everything for one message in one transaction (domain.md §7), from the claim to `complete`. The
// statuses it passes through are each recorded in the history with their time (§1.3); the record
// itself is written once, with the status it ends in.
function workflow(deps: Deps, row: StagedMail, trace: TraceStep[], opts: ProcessOptions): WorkflowResult {
  const at = deps.now().toISOString();
  const attempts = row.attempts;
  const passed = ["in_process"];
  trace.push({ step: "stage", decision: `staged as ${row.id}`, reason: `${row.rawSize} bytes from ${row.source}` });
  // issue 13: detection runs for every mail, before anything can stop it.
  const auto = detectStaged(deps, row);
  if (auto.autoGenerated) trace.push({ step: "detect-auto", decision: "auto-generated", reason: auto.reasons.join("; ") });
  // issue 13: a delivery report about our own mail ends here, subject or not (status `bounce`).
  const bounced = handleBounce(deps, row, { at, attempts, passed, auto, trace });
  if (bounced) return { outcome: bounced, created: [], readBack: false };
  // domain.md §1.4 (Maximo): no subject → invalid, kept, not processed.
  if (deps.config.requireSubject && !row.subject) {
    const reason = "the message has no subject";
    trace.push({ step: "validate", decision: "invalid", reason });
    setStagedStatus(deps.db, row.id, "invalid", at, { attempts, autoGenerated: auto.autoGenerated, autoReasons: JSON.stringify(auto.reasons), reason, trace: JSON.stringify(trace) }, reason, passed);
    return { outcome: emptyOutcome(row.id, "invalid"), created: [], readBack: true };
  }
  const support = deps.config.supportAddresses.map((a) => a.toLowerCase());
  const split = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);
  const rcpt = chooseRecipient({ envelope: row.envelopeRecipient, deliveredTo: split(row.deliveredTo), to: split(row.toAddresses), cc: split(row.ccAddresses), supportAddresses: support });
  trace.push({ step: "recipient", decision: rcpt.recipient ?? "none", reason: `from ${rcpt.source}` });
  const recipient = rcpt.recipient;
  const supportAddress = recipient ? baseAddress(recipient, support) : null;

  passed.push("workflow");
  const autoFields = { attempts, autoGenerated: auto.autoGenerated, autoReasons: JSON.stringify(auto.reasons) };
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
        setStagedStatus(deps.db, row.id, "held", at, { ...autoFields, reason, userIdentificationId: uid, trace: JSON.stringify(trace) }, reason, passed);
        return { outcome: { ...outcome, status: "held", userIdentificationId: uid, reason, trace }, created: [], readBack: false };
      }
    }
    const opened = openIssue(deps, { userIdentificationId: uid, supportLevel, address: supportAddress, subject: row.subject, followsClosed });
    trace.push(...opened.trace);
    // Decided here, inside the transaction, so mail on a silent route costs no outbound work at all.
    if (!opened.route.sendResponse) trace.push({ step: "confirm", decision: `no confirmation for ${opened.issue.reference}`, reason: "the route does not send a response" });
    created.push({ issue: opened.issue, route: opened.route });
    targetIds.push(opened.issue.id);
    issuesOut.push({ issueId: opened.issue.id, reference: opened.issue.reference!, created: true, reopened: false, matchedBy: null, state: opened.issue.state });
  }

  const rec = recordMail(deps, row, uid, targetIds);
  trace.push({ step: "record", decision: `interaction ${rec.interactionId}, actions ${rec.actionIds.join(", ")}`, reason: "one action per issue" });
  setStagedStatus(deps.db, row.id, "complete", at, { ...autoFields, userIdentificationId: uid, interactionId: rec.interactionId, trace: JSON.stringify(trace) }, null, passed);
  Object.assign(outcome, { userIdentificationId: uid, interactionId: rec.interactionId, actionIds: rec.actionIds, issues: issuesOut, trace });
  return { outcome, created, readBack: false, supportAddress };
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
