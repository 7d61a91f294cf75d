// The ingest orchestrator: the order of the stages is written here and only here.
//   read raw → STAGE (durable commit: raw bytes, envelope, source, time; issue 9.1) →
//   parse (from the staged bytes, bounded) → [components → validate → identify → match → state
//   rules → open issue → record → complete] (one commit) → outbound mail (after the commit)
import { existsSync, rmSync } from "node:fs";
import { isStorageFault, LateUnitFailure, NotFoundError, StorageFault } from "../errors.js";
import { getStaged, rawOf, setStagedStatus, stagedClaim, stagedForCommit, takeClaim, updateIssue, writeComponents, type Issue, type NewStagedMail, type StagedMail } from "../store/queries/queries.js";
import { linkGraph } from "../store/queries/link-queries.js";
import { baseAddress } from "../rules/address-ids.js";
import { planDelivery } from "../rules/deliver.js";
import { claimIsLive, MAX_ATTEMPTS, selfClaim, type Claim } from "./claim.js";
import { sourceFrame } from "./source-frames.js";
import type { Deps } from "./deps.js";
import type { Db } from "../store/store.js";
import { handleBounce } from "./bounce.js";
import { detectStaged } from "./detect.js";
import { identifyByAddressIds, identifySender, supportLevelOf } from "./identify.js";
import { matchIssue } from "./match.js";
import { openIssue, reassignment } from "./open-issue.js";
import { notifyError, sendConfirmations, type CreatedIssue } from "./outbound.js";
import { emptyOutcome, type IssueOutcome, type Outcome, type TraceStep } from "./outcome.js";
import { parsedHeadersOnly, parseMail, type ParsedAttachment, type ParsedMail, type ParseLimits } from "./parse.js";
import { rawStream, readRaw, type RawMessage } from "./read-raw.js";
import { chooseRecipient } from "./recipient.js";
import { MAX_ADDRESS, senderMailbox, withoutNul } from "./field-limits.js";
import { readAhead, type ReadAhead } from "./read-ahead.js";
import { recordMail } from "./record.js";
import { keepStored, openStored, releaseLocal, storedHead } from "./stored-bytes.js";
import { MAX_HEADER_BYTES } from "./parse-simple.js";
import { discardUnstaged, releaseStaged, stageAhead, stageRaw, type Envelope, type StageResult } from "./stage.js";
import { floodFields, floodReason, screen, trustOf } from "./trust.js";

export interface IngestOptions {
  source: string;
  /** fsync the staging commit and spool files (stdin, poll: yes; import relaxes it, its source files remain). */
  durable?: boolean;
  /** Told once the mail is staged (the CLI's signal handler: issue 9.6). */
  onStaged?: (stagedId: number) => void;
  /** Told of the temporary spool file while it exists (removed by the signal handler). */
  onTempFile?: (path: string | null) => void;
  /** deps.db is a unit of the caller's that a staging failure fails whole (import): see stageRaw. */
  stageInCallerUnit?: boolean;
  /**
   * With stageInCallerUnit: the reads of this mail's processing, sent early (read-ahead.ts
   * readEarly) and still holding; when they found its dedup key free, it is staged without waiting.
   */
  ahead?: ReadAhead;
}

/** read → stage (commit) → process. Throws only when the mail could not be staged. */
export async function ingest(deps: Deps, input: AsyncIterable<Buffer | string>, envelope: Envelope, opts: IngestOptions): Promise<Outcome> {
  const raw = await readRaw(input, { ...readSettings(deps, opts), onTempFile: opts.onTempFile });
  return ingestRaw(deps, raw, envelope, opts);
}

/** What reading a message needs: no database, so `import` can run it on other threads. */
export interface ReadSettings {
  spoolDir: string;
  inlineMaxBytes: number;
  maxMessageBytes: number;
  durable?: boolean;
  /** The store keeps the bytes (PostgreSQL): the spool file is only the way there (read-raw.ts). */
  transient?: boolean;
}

export function readSettings(deps: Deps, opts: Pick<IngestOptions, "durable">): ReadSettings {
  const { paths, config } = deps;
  return { spoolDir: paths.spoolDir, inlineMaxBytes: config.inlineRawMaxBytes, maxMessageBytes: config.limits.maxMessageBytes, durable: opts.durable, transient: Boolean(deps.db.blobs) };
}

/** What import's worker threads need to read and parse ahead (structured-cloneable: no database). */
export interface PrepareSettings extends ReadSettings {
  attachmentsDir: string;
  limits: ParseLimits;
}

export function prepareSettings(deps: Deps, opts: Pick<IngestOptions, "durable">): PrepareSettings {
  return { ...readSettings(deps, opts), attachmentsDir: deps.paths.attachmentsDir, limits: parseLimits(deps, opts.durable !== false) };
}

/** A message read, and parsed ahead where that worked (else it is parsed again after staging). */
export interface Prepared {
  raw: RawMessage;
  parsed?: ParsedMail;
}

/** read → parse, for import: the parse is of the same bytes that are staged, so processing can use it. */
export async function prepare(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, s: PrepareSettings): Promise<Prepared> {
  const raw = await readRaw(input, s);
  try {
    return { raw, parsed: await parseMail(raw.buffer ?? rawStream(raw), s.attachmentsDir, s.limits) };
  } catch (e) {
    if (isStorageFault(e)) throw e;
    return { raw };
  }
}

/** Nothing staged for it: remove the files its read and parse created. */
export function discardPrepared({ raw, parsed }: Prepared): void {
  for (const f of parsed?.createdFiles ?? []) rmSync(f, { force: true });
  discardUnstaged(raw);
}

export function parseLimits(deps: Deps, durable: boolean): ParseLimits {
  const l = deps.config.limits;
  return { maxTextBytes: l.maxTextBytes, htmlToTextBytes: l.htmlToTextBytes, parseMs: l.parseSeconds * 1000, durable };
}

export interface AfterStagingOptions extends ProcessOptions {
  /** The bytes just read (so processing need not read them back). */
  raw?: RawMessage;
}

/** stage (its own commit) → process. Throws only when the mail could not be staged. */
export async function ingestRaw(deps: Deps, raw: RawMessage, envelope: Envelope, opts: IngestOptions & AfterStagingOptions): Promise<Outcome> {
  // Staged in the caller's unit (import), the record is processed in the same transaction, where
  // no other process can see it: as its insert returned it, not read back (stagedForCommit), and
  // with the reads its processing makes sent along with the staging (read-ahead.ts).
  const parsedInUnit = opts.stageInCallerUnit ? opts.parsed : undefined;
  const early = parsedInUnit && opts.ahead;
  const ahead = early || (parsedInUnit ? await readAhead(deps.db, parsedInUnit) : undefined);
  const input = { raw, envelope, source: opts.source };
  const free = early?.dedupTaken && !raw.path && !(await early.dedupTaken);
  const staged = free ? await stageAhead(deps, input) : await stageRaw(deps, input, opts.durable !== false, opts.stageInCallerUnit === true);
  try {
    opts.onStaged?.(staged.stagedId);
    return await afterStaging(deps, staged, { ...opts, raw, ...(ahead && staged.kind === "staged" ? { inserted: { row: staged.row, ahead } } : {}) });
  } finally {
    // PostgreSQL: processing parsed the local spool file rather than fetch the bytes back; now
    // they are the database's alone. (Inside import's batch this is before the batch commits: a
    // batch rolled back is imported again from its sources, as on SQLite.)
    releaseStaged(deps.db, raw);
  }
}

/** What follows a staging commit, for each way it can end. */
export async function afterStaging(deps: Deps, staged: StageResult, opts: AfterStagingOptions = {}): Promise<Outcome> {
  switch (staged.kind) {
    case "duplicate": {
      const out = emptyOutcome(staged.stagedId, "duplicate");
      out.duplicateOf = staged.duplicateOf;
      out.trace.push({ step: "stage", decision: "duplicate", reason: `same message (trace fields aside) for the same recipient as staged mail ${staged.duplicateOf}` });
      return out;
    }
    case "gave-up":
      return outcomeOf((await getStaged(deps.db, staged.stagedId))!);
    case "staged":
      return processStaged(deps, staged.stagedId, { ...opts, claim: staged.claim, freshlyStaged: true });
    case "takeover": {
      const note = { step: "stage", decision: `redelivery finishes staged mail ${staged.stagedId}`, reason: `it was still new and its process (${staged.previous ?? "none"}) is gone` };
      // The original's own stored bytes are processed, not this delivery's (its trace fields differ).
      return processStaged(deps, staged.stagedId, { ...opts, claim: staged.claim, raw: undefined, parsed: undefined, note });
    }
  }
}

export interface ProcessOptions {
  /** resubmit: the administrator released a held mail, so the flood limit does not hold it again. */
  skipFlood?: boolean;
  /** The claim this process already holds (it staged the record, or took it over). */
  claim?: Claim;
  /** The message parsed already from the same raw bytes (import's worker threads). */
  parsed?: ParsedMail;
  /** The raw bytes in memory, so they need not be read back from the database. */
  raw?: RawMessage;
  /** fsync attachment files (the MTA path); import relaxes it. */
  durable?: boolean;
  /** Outbound mail is handed back instead of sent (import sends after its batch commits: issue 9.8). */
  deferOutbound?: (send: () => Promise<void>) => void;
  /** A first trace step (a redelivery taking over). */
  note?: TraceStep;
  /** A claim this very process holds may be taken over: the LMTP daemon's own sweep, which is
   * the only processor in its process, finds records it staged but could not queue. */
  takeOwnClaim?: boolean;
  /** false: no confirmations (a replay: `import` without --send-confirmations, issue 10.8). */
  sendConfirmations?: boolean;
  /** resubmit: the administrator released a `spam` record, so the spam flag does not stop it again. */
  releasedSpam?: boolean;
  /** Parsing already failed (serve parses a batch before its transaction): recorded as `error`. */
  parseFailure?: Error;
  /** The record as this same transaction inserted it, and the reads sent with its staging. */
  inserted?: { row: StagedMail; ahead: ReadAhead };
  /**
   * This process staged the record just now (in this transaction too, when `inserted`): while its
   * claim holds, nothing else has processed it, so it has no attachment rows to replace (one DELETE
   * a mail fewer).
   */
  freshlyStaged?: boolean;
}

/** Processes a staged record in status `new` (fresh, resubmitted, recovered or taken over). */
export async function processStaged(deps: Deps, stagedId: number, opts: ProcessOptions = {}): Promise<Outcome> {
  const claimed = opts.claim ? { claim: opts.claim } : await claimRecord(deps, stagedId, opts.takeOwnClaim === true);
  if ("outcome" in claimed) return claimed.outcome;
  const { claim } = claimed;
  // Kept out here so that a failure's record shows how far processing got before it rolled back.
  const trace: TraceStep[] = opts.note ? [opts.note] : [];
  let parsed: ParsedMail | undefined = opts.parsed;
  let result: WorkflowResult;
  /** The attachments were kept by the commit (on PostgreSQL: their bytes are in the database). */
  let applied = false;
  try {
    if (opts.parseFailure) throw opts.parseFailure;
    parsed ??= await parseStaged(deps, stagedId, opts.raw, opts.durable !== false);
    const p = parsed;
    // The components, the attachments and the whole workflow commit together (domain.md §7); the
    // claim is checked first, so a record another process took over meanwhile is left to it.
    const start = trace.length;
    for (let round = 1; ; round++) {
      try {
        applied = false;
        result = await deps.db.write(async (db) => {
          const tx = { ...deps, db };
          const found = opts.inserted
            ? { row: opts.inserted.row, messageIdReusedBy: await opts.inserted.ahead.messageIdReusedBy }
            : await stagedForCommit(db, stagedId, withoutNul(p.messageId));
          if (!found) throw new NotFoundError(`no staged mail ${stagedId}`);
          const current = found.row;
          if (current.status !== "new" || current.claimedBy !== claim.by || current.attempts !== claim.attempt) return { outcome: outcomeOf(current), created: [], readBack: false };
          const components = await applyComponents(tx, current, p, trace, found.messageIdReusedBy, !opts.freshlyStaged);
          applied = true;
          return workflow(tx, { ...current, ...components, status: "in_process" }, p, trace, opts, components);
        });
        break;
      } catch (e) {
        // Issue 11.3: a transaction that lost a race on PostgreSQL (deadlock, serialization) is run again.
        if (!(e instanceof StorageFault && e.retry) || round >= 3) throw e;
        trace.length = start;
        await new Promise((r) => setTimeout(r, 20 * round));
      }
    }
  } catch (e) {
    // An earlier mail's failure, found now (import runs the batch again, each mail confirmed).
    if (e instanceof NotFoundError || e instanceof LateUnitFailure) throw e;
    return failed(deps, stagedId, claim, e as Error, trace, parsed, opts.raw?.buffer ?? null);
  }
  // Only once committed: another process here may have found the same file and count on it until
  // the database holds its bytes.
  if (applied) releaseLocal(deps.db, parsed.attachments.map((a) => a.storedPath));
  if (result.readBack) return outcomeOf((await getStaged(deps.db, stagedId))!);
  const outcome = result.outcome;
  // A replay's "no confirmation" step is traced inside the workflow, so the record keeps it.
  const toConfirm = opts.sendConfirmations === false ? [] : result.created.filter((c) => c.route.sendResponse);
  if (toConfirm.length) {
    // After the commit, so on the store itself: the transaction this ran in (import's batch) is over.
    const after = { ...deps, db: deps.store };
    const send = async () => {
      outcome.outbound = await sendConfirmations(after, {
        staged: (await getStaged(after.db, stagedId))!,
        created: toConfirm,
        userIdentificationId: outcome.userIdentificationId!,
        autoGenerated: outcome.autoGenerated,
        supportAddress: result.supportAddress ?? null,
        trace: outcome.trace,
      });
    };
    if (opts.deferOutbound) opts.deferOutbound(send);
    else await send();
  }
  return outcome;
}

/** Takes the claim on a `new` record no live process holds; otherwise says what the record is. */
async function claimRecord(deps: Deps, stagedId: number, takeOwn: boolean): Promise<{ claim: Claim } | { outcome: Outcome }> {
  const self = selfClaim();
  const at = deps.now().toISOString();
  // Read, decide, then take it by compare-and-set (issue 11.3): a racer that took it meanwhile wins.
  const current = await stagedClaim(deps.db, stagedId);
  if (!current) throw new NotFoundError(`no staged mail ${stagedId}`);
  const readBack = async (reason?: string) => {
    const out = outcomeOf((await getStaged(deps.db, stagedId))!);
    if (reason) out.reason = reason;
    return { outcome: out };
  };
  if (current.status !== "new") return readBack();
  if (!(takeOwn && current.claimedBy === self) && claimIsLive(current.claimedBy, current.claimedAt, deps.now(), undefined, self))
    return readBack(`being processed by ${current.claimedBy} since ${current.claimedAt}`);
  if (current.attempts >= MAX_ATTEMPTS && current.claimedBy !== null) {
    const error = `processing was interrupted ${current.attempts} times (the process was killed or crashed); the raw message is kept: run ingest-mail resubmit ${stagedId} once the cause is fixed`;
    // What killed it may be the mail: the record still says who wrote it and about what.
    const header = await headerOnlyParse(deps.db, stagedId);
    const row = header && (await getStaged(deps.db, stagedId));
    const fields = header && row ? { ...headerFieldsOf(row, header), trace: JSON.stringify([HEADER_ONLY, { step: "error", decision: "error", reason: error }]) } : {};
    await setStagedStatus(deps.db, stagedId, "error", at, { ...fields, error, claimedBy: null, claimedAt: null }, error);
    deps.log(`staged mail ${stagedId} error: ${error}`);
    return readBack();
  }
  if (!(await takeClaim(deps.db, stagedId, current, self, at))) return readBack("taken by another process meanwhile");
  return { claim: { by: self, attempt: current.attempts + 1 } };
}

/** Parses the record's raw bytes (issue 9.2: everything is derived from them, every time). */
export async function parseStaged(deps: Deps, stagedId: number, raw: RawMessage | undefined, durable: boolean): Promise<ParsedMail> {
  const limits = parseLimits(deps, durable);
  if (raw?.buffer) return parseMail(raw.buffer, deps.paths.attachmentsDir, limits);
  const stored = raw?.path ? { raw: null, rawPath: raw.path } : await rawOf(deps.db, stagedId);
  if (!stored) throw new NotFoundError(`no staged mail ${stagedId}`);
  return parseMail(stored.raw ?? (stored.rawPath ? openStored(deps.db, stored.rawPath) : rawStream({ buffer: null, path: null })), deps.paths.attachmentsDir, limits);
}

const joinAddrs = (list: { address: string }[]) => (list.length ? list.map((a) => a.address).join(", ") : null);

/** The record's fields from a parse (the subject an administrator corrected stays). */
function fieldsOf(current: StagedMail, parsed: ParsedMail): Partial<NewStagedMail> {
  const patch: Partial<NewStagedMail> = {
    messageId: parsed.messageId,
    inReplyTo: parsed.inReplyTo,
    references: parsed.references.join(" ") || null,
    fromAddress: senderMailbox(parsed),
    fromName: parsed.from?.name || null,
    toAddresses: joinAddrs(parsed.to),
    ccAddresses: joinAddrs(parsed.cc),
    deliveredTo: parsed.deliveredTo.join(", ") || null,
    subject: current.subjectOverride ?? parsed.subject,
    date: parsed.date,
    headers: parsed.headerBlock,
    textBody: parsed.text,
    htmlBody: parsed.html,
  };
  // A NUL in a header or body is kept in the raw bytes only: PostgreSQL text cannot hold one
  // (issue 11), and no reader of these fields needs it.
  for (const [k, v] of Object.entries(patch)) if (typeof v === "string") (patch as Record<string, unknown>)[k] = withoutNul(v);
  return patch;
}

/**
 * Writes the attachment rows the parse found and returns the record's parsed fields (the components).
 * The record itself is not written here: the one write of the status it ends in carries them (issue
 * 12: each UPDATE of a record rewrites its row with the raw message in it, and the text body written
 * here would be cleared again at the end).
 */
async function applyComponents(deps: Deps, current: StagedMail, parsed: ParsedMail, trace: TraceStep[], messageIdReusedBy: number | null, parsedBefore = true): Promise<Partial<NewStagedMail>> {
  const stagedId = current.id;
  const patch = fieldsOf(current, parsed);
  for (const note of parsed.notes) trace.push({ step: "parse", decision: "limited", reason: note });
  for (const [decision, reason] of parsed.steps) trace.push({ step: "parse", decision, reason });
  if (parsed.readAs.length) trace.push({ step: "parse", decision: `text read as ${parsed.readAs.join(", ")}`, reason: "a text part declares no charset, or one its bytes are not in (RFC 2045 §5.2: US-ASCII by default); the raw message keeps its bytes" });
  if (parsed.from?.address && !patch.fromAddress)
    trace.push({ step: "parse", decision: "no sender address", reason: `the From address is ${parsed.from.address.length} characters, more than any mailbox can have (RFC 5321 4.5.3.1: ${MAX_ADDRESS})` });
  // Issue 9.5: a Message-ID is no proof of identity (web forms reuse them); only our own outbound
  // ids thread anything, so a reused one changes nothing but is worth knowing.
  if (messageIdReusedBy !== null)
    trace.push({ step: "stage", decision: "Message-ID reused", reason: `staged mail ${messageIdReusedBy} has the same Message-ID with other content; processed as a message of its own` });
  const kept: string[] = [];
  for (const a of parsed.attachments) kept.push(await keepAttachment(deps.db, a));
  // A resubmitted record is parsed again: its earlier attachment rows give way to the new ones
  // (parsedBefore: false for a record this process staged just now and still claims: it has none).
  const rows = parsed.attachments.map((a, i) => ({ stagedMailId: stagedId, filename: withoutNul(a.filename) ?? null, contentType: a.contentType, size: a.size, contentId: a.contentId, sha256: a.sha256, storedPath: kept[i] }));
  await writeComponents(deps.db, stagedId, {}, rows, parsedBefore);
  return patch;
}

/**
 * What an attachment row points to. A file the parse found already stored (same content) may have
 * been purged since (issue 14): a row must never point to missing bytes, so processing fails here
 * and a resubmit writes it anew. PostgreSQL (issue 11.8): the bytes are copied into the database,
 * and the file is needed only when the database does not hold them yet.
 */
async function keepAttachment(db: Db, a: ParsedAttachment): Promise<string> {
  const gone = () => new Error(`attachment file ${a.storedPath} is gone (purged meanwhile?); resubmit to extract it again`);
  if (!db.blobs) {
    if (!existsSync(a.storedPath)) throw gone();
    return a.storedPath;
  }
  try {
    return await keepStored(db, a.sha256, a.storedPath);
  } catch (e) {
    throw (e as { code?: string }).code === "ENOENT" ? gone() : e;
  }
}

/** Issue 9.1 / domain.md §1.5: processing threw (and rolled back): the record becomes `error` with
 * the text, keeping what was parsed; the raw bytes stay for a resubmit. */
async function failed(deps: Deps, stagedId: number, claim: Claim, e: Error, steps: TraceStep[], parsed: ParsedMail | undefined, bytes: Buffer | null): Promise<Outcome> {
  const at = deps.now().toISOString();
  const text = e.stack?.split("\n").slice(0, 2).map(sourceFrame).join(" ") ?? String(e);
  const trace: TraceStep[] = [...steps];
  // Read before the transaction: a read that fails inside one would leave PostgreSQL's aborted.
  const headerOnly = parsed ? null : await headerOnlyParse(deps.db, stagedId, bytes);
  if (headerOnly) trace.push(HEADER_ONLY);
  trace.push({ step: "error", decision: "error", reason: e.message ?? String(e) });
  let row: StagedMail | undefined;
  try {
    row = await deps.db.write(async (db) => {
      const current = (await stagedForCommit(db, stagedId))?.row;
      if (!current || current.status !== "new" || current.claimedBy !== claim.by) return current;
      const components = parsed ? await applyComponents({ ...deps, db }, current, parsed, [], null) : headerOnly ? headerFieldsOf(current, headerOnly) : {};
      await setStagedStatus(db, stagedId, "error", at, { ...components, error: text, trace: JSON.stringify(trace), claimedBy: null, claimedAt: null }, e.message, ["in_process"]);
      return getStaged(db, stagedId);
    });
  } catch {
    // The database refused even the error status: the record stays `new` for a redelivery or `recover`.
  }
  const out = row ? outcomeOf(row) : emptyOutcome(stagedId, "new");
  if (row?.status === "error" || !row) {
    out.status = row ? "error" : "new";
    out.error = e.message;
    out.trace = trace;
  }
  if (row?.status === "error") out.outbound = await notifyError(deps, row, e.message).catch(() => []);
  else if (!row) deps.log(`staged mail ${stagedId}: processing failed and the error could not be recorded (${e.message}); it stays new for recover`);
  return out;
}

const HEADER_ONLY: TraceStep = { step: "parse", decision: "header only", reason: "the message could not be parsed; its sender, recipients, subject and ids are read from its header alone" };

/** The fields the header alone gives: not the text (nor attachments: rows of an earlier parse stay). */
const headerFieldsOf = (current: StagedMail, header: ParsedMail): Partial<NewStagedMail> => ({ ...fieldsOf(current, header), textBody: undefined, htmlBody: undefined });

/**
 * Issue 9.1: a message whose parse failed keeps its raw bytes for a resubmit, and its record still
 * says who wrote and about what, read from the top-level header alone (parsedHeadersOnly: at most
 * the first 64 KiB, linear). null when there is no such header, or the bytes cannot be read now.
 */
async function headerOnlyParse(db: Db, stagedId: number, bytes: Buffer | null = null): Promise<ParsedMail | null> {
  try {
    // One byte past the most that is read as a header, so a longer one is seen to be longer (not
    // taken for a message that is all header).
    const want = MAX_HEADER_BYTES + 1;
    // The bytes this process read (ingest, import, serve), else the record's, stored.
    if (bytes) return parsedHeadersOnly(bytes.subarray(0, want));
    const stored = await rawOf(db, stagedId);
    const head = stored?.raw ? stored.raw.subarray(0, want) : stored?.rawPath ? await storedHead(db, stored.rawPath, want) : null;
    return head ? parsedHeadersOnly(head) : null;
  } catch {
    return null;
  }
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
// itself is written once, with the status it ends in and the parsed components (every end below
// writes autoFields).
async function workflow(deps: Deps, row: StagedMail, parsed: ParsedMail, trace: TraceStep[], opts: ProcessOptions, components: Partial<NewStagedMail>): Promise<WorkflowResult> {
  const at = deps.now().toISOString();
  const attempts = row.attempts;
  const passed = ["in_process"];
  trace.push({ step: "stage", decision: `staged as ${row.id}`, reason: `${row.rawSize} bytes from ${row.source}` });
  // Detection runs for every mail, whatever its later status (a subject-less bounce is still a bounce).
  const auto = detectStaged(row, parsed.attachments.map((a) => a.contentType ?? ""));
  if (auto.autoGenerated) trace.push({ step: "detect-auto", decision: "auto-generated", reason: auto.reasons.join("; ") });
  const autoFields = { ...components, attempts, autoGenerated: auto.autoGenerated, autoReasons: JSON.stringify(auto.reasons), claimedBy: null, claimedAt: null };
  // issue 13: a delivery report about our own mail ends here, subject or not (status `bounce`).
  const bounced = await handleBounce(deps, row, { at, passed, auto, trace, fields: autoFields });
  if (bounced) return { outcome: bounced, created: [], readBack: false };
  const invalid = invalidReason(deps, row);
  if (invalid) {
    trace.push({ step: "validate", decision: "invalid", reason: invalid });
    await setStagedStatus(deps.db, row.id, "invalid", at, { ...autoFields, reason: invalid, trace: JSON.stringify(trace) }, invalid, passed);
    deps.log(`staged mail ${row.id} invalid: ${invalid}`);
    return { outcome: emptyOutcome(row.id, "invalid"), created: [], readBack: true };
  }
  if (row.rawTruncated) trace.push({ step: "validate", decision: "truncated", reason: `only the headers and the first part of the body of ${row.rawSize} bytes were kept` });
  // Issue 10 (domain.md §9): our own mail coming back is ignored; mail flagged as spam waits.
  const screened = screen(deps, row, { releasedSpam: opts.releasedSpam });
  if (screened) {
    trace.push({ step: "screen", decision: screened.status, reason: screened.reason });
    await setStagedStatus(deps.db, row.id, screened.status, at, { ...autoFields, reason: screened.reason, trace: JSON.stringify(trace) }, screened.reason, passed);
    return { outcome: emptyOutcome(row.id, screened.status), created: [], readBack: true };
  }
  const trust = trustOf(deps, row);
  if (trust.reason) trace.push({ step: "authenticate", decision: trust.authenticated ? "authenticated" : "unauthenticated", reason: trust.reason });
  const support = deps.config.supportAddresses.map((a) => a.toLowerCase());
  const split = (s: string | null) => (s ? s.split(/,\s*/).filter(Boolean) : []);
  const rcpt = chooseRecipient({ envelope: row.envelopeRecipient, deliveredTo: split(row.deliveredTo), to: split(row.toAddresses), cc: split(row.ccAddresses), supportAddresses: support });
  trace.push({ step: "recipient", decision: rcpt.recipient ?? "none", reason: `from ${rcpt.source}` });
  const recipient = rcpt.recipient;
  const supportAddress = recipient ? baseAddress(recipient, support) : null;

  passed.push("workflow");
  const outcome = { ...emptyOutcome(row.id, "complete"), autoGenerated: auto.autoGenerated, autoReasons: auto.reasons };

  // 0. Case 1: ids in the address, when the issue really belongs to that identification.
  const byAddress = await identifyByAddressIds(deps, recipient, support, { recipientSource: rcpt.source, senderEmail: row.fromAddress, trust });
  trace.push(...byAddress.trace);
  let uid = byAddress.userIdentificationId;
  let supportLevel = byAddress.supportLevel;
  let matched: { issue: Issue; matchedBy: string } | null = byAddress.issue ? { issue: byAddress.issue, matchedBy: "address-ids" } : null;
  // Case 2: who the sender is.
  if (uid === null) {
    const w = await identifySender(deps, row.fromAddress ?? (row.envelopeSender || null), row.fromName, opts.inserted?.ahead.sender);
    uid = w.userIdentificationId;
    supportLevel = w.supportLevel;
    trace.push(w.trace);
  }
  // 1-4: Enate's matchers, first hit wins.
  if (!matched) {
    const m = await matchIssue(deps, { inReplyTo: row.inReplyTo, references: row.references ? row.references.split(" ") : [], subject: row.subject, text: row.textBody, senderEmail: row.fromAddress, authenticated: trust.authenticated });
    trace.push(...m.trace);
    if (m.candidate) matched = { issue: m.candidate.issue, matchedBy: m.candidate.matchedBy };
  }

  const issuesOut: IssueOutcome[] = [];
  const created: CreatedIssue[] = [];
  const targetIds: number[] = [];
  let followsClosed: Issue | null = null;
  if (matched) {
    // Issue 11.4: the link graph (merged, split, converted, parent) loaded in one query; the rules decide over it.
    const graph = await linkGraph(deps.db, matched.issue.id);
    const plan = planDelivery(matched.issue, { get: (id) => graph.get(id), splitChildren: (id) => [...graph.values()].filter((i) => i.splitFromId === id).sort((a, b) => a.id - b.id) });
    trace.push(...plan.trace);
    for (const t of plan.targets) {
      // Assignment rules look at the issue's customer (Salesforce: the case contact's account), not
      // at whoever wrote this mail.
      const patch = { ...t.patch, ...(t.reassign ? reassignment(deps, t.issue, await supportLevelOf(deps, t.issue.userIdentificationId)) : {}), updatedAt: at };
      const updated = await updateIssue(deps.db, t.issue.id, patch, `staged mail ${row.id}`);
      targetIds.push(updated.id);
      issuesOut.push({ issueId: updated.id, reference: updated.reference!, created: false, reopened: t.reopened, matchedBy: matched.matchedBy, state: updated.state });
    }
    for (const p of plan.parentUpdates) await updateIssue(deps.db, p.issue.id, { ...p.patch, updatedAt: at }, `staged mail ${row.id}`);
    followsClosed = plan.newIssueFollowing;
  }
  if (targetIds.length === 0) {
    {
      // Issue 10: counted at the mail's own Date when imported; forged mail spares the real sender's quota.
      const reason = opts.skipFlood ? null : await floodReason(deps, row, uid, trust);
      if (reason) {
        trace.push({ step: "flood", decision: "held", reason });
        await setStagedStatus(deps.db, row.id, "held", at, { ...autoFields, reason, userIdentificationId: uid, trace: JSON.stringify(trace) }, reason, passed);
        return { outcome: { ...outcome, status: "held", userIdentificationId: uid, reason, trace }, created: [], readBack: false };
      }
    }
    const opened = await openIssue(deps, { userIdentificationId: uid, supportLevel, address: supportAddress, subject: row.subject, followsClosed, flood: floodFields(deps, row, trust) });
    trace.push(...opened.trace);
    // Decided here, inside the transaction, so mail on a silent route costs no outbound work at all.
    if (!opened.route.sendResponse) trace.push({ step: "confirm", decision: `no confirmation for ${opened.issue.reference}`, reason: "the route does not send a response" });
    else if (opts.sendConfirmations === false) trace.push({ step: "confirm", decision: `no confirmation for ${opened.issue.reference}`, reason: "replayed by import (confirmations only with --send-confirmations)" });
    created.push({ issue: opened.issue, route: opened.route });
    targetIds.push(opened.issue.id);
    issuesOut.push({ issueId: opened.issue.id, reference: opened.issue.reference!, created: true, reopened: false, matchedBy: null, state: opened.issue.state });
  }

  const rec = await recordMail(deps, row, uid, targetIds, parsed.attachments.length > 0);
  trace.push({ step: "record", decision: `interaction ${rec.interactionId}, actions ${rec.actionIds.join(", ")}`, reason: "one action per issue" });
  // Issue 9.3: the text is stored once: the actions hold it now (the raw message holds everything).
  await setStagedStatus(deps.db, row.id, "complete", at, { ...autoFields, textBody: null, userIdentificationId: uid, interactionId: rec.interactionId, trace: JSON.stringify(trace) }, null, passed);
  Object.assign(outcome, { userIdentificationId: uid, interactionId: rec.interactionId, actionIds: rec.actionIds, issues: issuesOut, trace });
  return { outcome, created, readBack: false, supportAddress };
}

/** Why a record is `invalid` (kept, not processed), or null. */
function invalidReason(deps: Deps, row: StagedMail): string | null {
  // Issue 9.3: over the size limit only the head was kept. Resubmitted after the limit was raised,
  // that head is processed (the trace says it was cut).
  if (row.rawTruncated && row.rawSize > deps.config.limits.maxMessageBytes)
    return `message of ${row.rawSize} bytes is larger than limits.maxMessageBytes (${deps.config.limits.maxMessageBytes}); its headers and the first 64 KiB of the body are kept`;
  // domain.md §1.4 (Maximo): no subject → invalid, kept, not processed.
  if (deps.config.requireSubject && !row.subject) return "the message has no subject";
  return null;
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
