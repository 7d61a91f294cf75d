// domain.md §1.1, issue 9.1: the staged-mail record holds the raw bytes (inline or spooled), the
// envelope, the source and the time, committed on its own before any MIME parsing. From here on
// the mail cannot be lost; everything else is derived from the raw bytes afterwards.
// Issue 9.5: a redelivery (same bytes but for the trace fields, same envelope recipient) is
// recorded as a duplicate of the original, unless the original is still `new` with no live
// process on it: then this delivery takes it over and finishes it (issue 9.6).
import { rmSync } from "node:fs";
import { basename } from "node:path";
import { LateUnitFailure } from "../errors.js";
import { findStagedByDedupKey, insertStaged, insertStagedAhead, setStagedStatus, stagedClaim, takeClaim, type NewStagedMail, type StagedMail } from "../store/queries/queries.js";
import type { Db } from "../store/store.js";
import { claimIsLive, MAX_ATTEMPTS, selfClaim, type Claim } from "./claim.js";
import type { Deps } from "./deps.js";
import type { RawMessage } from "./read-raw.js";
import { redeliveryKey } from "./redelivery-key.js";
import { keepStored, releaseLocal } from "./stored-bytes.js";

export interface Envelope {
  recipient: string | null;
  sender: string | null;
}

export interface StageInput {
  raw: RawMessage;
  envelope: Envelope;
  source: string;
}

export type StageResult =
  /** A new record, claimed by this process; `row` as its insert returned it. */
  | { kind: "staged"; stagedId: number; claim: Claim; row: StagedMail }
  /** A redelivery of a record that is already processed, or being processed by a live process. */
  | { kind: "duplicate"; stagedId: number; duplicateOf: number }
  /** A redelivery of a record left `new` by a process that is gone: this process finishes it. */
  | { kind: "takeover"; stagedId: number; claim: Claim; previous: string | null }
  /** A redelivery of a record whose processing was interrupted too often: now `error`. */
  | { kind: "gave-up"; stagedId: number };

/**
 * Stages one message in its own commit (fsynced when `durable`). `inCallerUnit`: deps.db is a
 * transaction whose unit a staging failure fails as a whole (import's per-mail savepoint), so the
 * staging takes no savepoint of its own (TxOptions.noSavepoint).
 */
export async function stageRaw(deps: Deps, input: StageInput, durable = true, inCallerUnit = false): Promise<StageResult> {
  return (await stageRawBatch(deps, [input], durable, inCallerUnit))[0];
}

/** Stages several messages in one transaction, one fsync for all (LMTP's group commit, import). */
export async function stageRawBatch(deps: Deps, inputs: StageInput[], durable = true, inCallerUnit = false): Promise<StageResult[]> {
  const at = deps.now().toISOString();
  const self = selfClaim();
  try {
    return await deps.db.write(
      async (tx) => {
        const out: StageResult[] = [];
        for (const input of inputs) out.push(await stageOne({ ...deps, db: tx }, input, at, self));
        return out;
      },
      { durable, noSavepoint: inCallerUnit },
    );
  } catch (e) {
    // An earlier unit's failure, found now: the caller stages these again (import's replay).
    if (!(e instanceof LateUnitFailure)) for (const input of inputs) discardUnstaged(input.raw);
    throw e;
  }
}

async function stageOne(deps: Deps, input: StageInput, at: string, self: string): Promise<StageResult> {
  const key = redeliveryKey(input.raw.contentKey, input.envelope.recipient);
  const staged = (row: StagedMail) => newRecord(row, self);
  // The usual case, a new mail with its bytes in the row, is one statement: the insert produces no
  // row when the key is taken (issue 11.3), and only then is the original looked up. A spooled mail
  // looks first: on PostgreSQL its bytes go into the database only for a record that will hold them.
  if (!input.raw.path) {
    const row = await insertRecord(deps.db, input, null, key, null, at, self);
    if (row) return staged(row);
  }
  // Twice at most: a concurrent delivery of the same mail may take the key between our look and
  // our insert (PostgreSQL; SQLite's single writer cannot); then this one is its redelivery.
  let rawPath: string | null | undefined;
  for (let round = 0; ; round++) {
    const original = await findStagedByDedupKey(deps.db, key);
    if (original) {
      const redelivered = await redelivery(deps, original.id, at, self);
      if (redelivered) return redelivered;
    }
    // Issue 11.8: on PostgreSQL the spooled bytes go into the database with the record.
    rawPath ??= input.raw.path && (await keepStored(deps.db, input.raw.sha256, input.raw.path));
    const row = await insertRecord(deps.db, input, rawPath, key, original?.id ?? null, at, self);
    if (row) return original ? { kind: "duplicate", stagedId: row.id, duplicateOf: original.id } : staged(row);
    if (round > 0) throw new Error(`staging: the dedup key of a new mail is taken but no record holds it`);
  }
}

/**
 * Import on PostgreSQL, a message whose dedup key a read sent early found free (read-ahead.ts):
 * staged in the caller's unit with its id drawn ahead, nothing waited for. Should another writer
 * take the key meanwhile, the insert fails and import runs the batch again the usual way.
 */
export async function stageAhead(deps: Deps, input: StageInput): Promise<StageResult> {
  const at = deps.now().toISOString();
  const self = selfClaim();
  return newRecord(await insertStagedAhead(deps.db, recordOf(input, null, redeliveryKey(input.raw.contentKey, input.envelope.recipient), null, at, self)), self);
}

/** A record this process inserted, claimed by it for its first attempt. */
function newRecord(row: StagedMail, self: string): StageResult {
  return { kind: "staged", stagedId: row.id, claim: { by: self, attempt: 1 }, row };
}

/** A redelivery of a record left `new` by a process that is gone takes it over (issue 9.6). */
async function redelivery(deps: Deps, originalId: number, at: string, self: string): Promise<StageResult | null> {
  const current = (await stagedClaim(deps.db, originalId))!;
  if (current.status !== "new" || claimIsLive(current.claimedBy, current.claimedAt, deps.now(), undefined, self)) return null;
  if (current.attempts >= MAX_ATTEMPTS) {
    const error = `processing was interrupted ${current.attempts} times (the process was killed or crashed); the raw message is kept: run ingest-mail resubmit ${originalId} once the cause is fixed`;
    await setStagedStatus(deps.db, originalId, "error", at, { error, claimedBy: null, claimedAt: null }, error);
    deps.log(`staged mail ${originalId} error: ${error}`);
    return { kind: "gave-up", stagedId: originalId };
  }
  // Compare-and-set: of two redeliveries racing for it, one takes it; the other is a duplicate.
  if (!(await takeClaim(deps.db, originalId, current, self, at))) return null;
  return { kind: "takeover", stagedId: originalId, claim: { by: self, attempt: current.attempts + 1 }, previous: current.claimedBy };
}

async function insertRecord(db: Db, input: StageInput, rawPath: string | null, key: string, originalId: number | null, at: string, self: string) {
  // Where ids are drawn ahead (import's batch on PostgreSQL, stageAhead), this record takes the
  // next one too, so that an import's records stay numbered in the order of its sources.
  const id = db.nextId ? await db.nextId("staged_mails") : undefined;
  return insertStaged(db, { ...recordOf(input, rawPath, key, originalId, at, self), id }, originalId !== null ? `redelivery of staged mail ${originalId}` : undefined);
}

/** The new record's row: every column the insert sets (what the database would leave NULL is null). */
function recordOf({ raw, envelope, source }: StageInput, rawPath: string | null, key: string, originalId: number | null, at: string, self: string): NewStagedMail {
  const duplicate = originalId !== null;
  return {
    receivedAt: at,
    updatedAt: at,
    status: duplicate ? "duplicate" : "new",
    source,
    dedupKey: duplicate ? null : key,
    duplicateOf: originalId,
    contentHash: raw.sha256,
    rawSize: raw.size,
    raw: raw.buffer,
    rawPath,
    rawTruncated: raw.truncated,
    envelopeRecipient: envelope.recipient,
    envelopeSender: envelope.sender,
    headers: "",
    claimedBy: duplicate ? null : self,
    claimedAt: duplicate ? null : at,
    attempts: duplicate ? 0 : 1,
    autoGenerated: null,
  };
}

/**
 * Not staged: the MTA delivers again. A temporary file goes. A spool file named by its content
 * (<sha256>.eml) stays: another delivery of the same bytes (the same mail to a second address,
 * piped by a second process; or a second LMTP session) may have renamed its copy onto the same
 * name after this one did, and staged a record on it: removing "ours" would remove the bytes of an
 * acknowledged mail (never lose a mail). The redelivery reuses the file; `recover` sweeps one
 * that no record refers to after an hour.
 */
export function discardUnstaged(raw: Pick<RawMessage, "path" | "existed">): void {
  if (raw.path && !raw.existed && !CONTENT_NAMED.test(basename(raw.path))) rmSync(raw.path, { force: true });
}

const CONTENT_NAMED = /^[0-9a-f]{64}\.eml$/;

/** Staged (committed): on PostgreSQL the database holds the bytes now, and the spool file goes. */
export function releaseStaged(db: Db, raw: Pick<RawMessage, "path">): void {
  releaseLocal(db, [raw.path]);
}
