// domain.md §1.1, issue 9.1: the staged-mail record holds the raw bytes (inline or spooled), the
// envelope, the source and the time, committed on its own before any MIME parsing. From here on
// the mail cannot be lost; everything else is derived from the raw bytes afterwards.
// Issue 9.5: a redelivery (same bytes but for the trace fields, same envelope recipient) is
// recorded as a duplicate of the original, unless the original is still `new` with no live
// process on it: then this delivery takes it over and finishes it (issue 9.6).
import { rmSync } from "node:fs";
import { findStagedByDedupKey, inDurableWriteTx, insertStaged, setStagedStatus, stagedClaim, updateStaged } from "../db/queries.js";
import { claimIsLive, MAX_ATTEMPTS, selfClaim, type Claim } from "./claim.js";
import type { Deps } from "./deps.js";
import type { RawMessage } from "./read-raw.js";
import { redeliveryKey } from "./redelivery-key.js";

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
  /** A new record, claimed by this process. */
  | { kind: "staged"; stagedId: number; claim: Claim }
  /** A redelivery of a record that is already processed, or being processed by a live process. */
  | { kind: "duplicate"; stagedId: number; duplicateOf: number }
  /** A redelivery of a record left `new` by a process that is gone: this process finishes it. */
  | { kind: "takeover"; stagedId: number; claim: Claim; previous: string | null }
  /** A redelivery of a record whose processing was interrupted too often: now `error`. */
  | { kind: "gave-up"; stagedId: number };

/** Stages one message in its own commit (fsynced when `durable`). */
export function stageRaw(deps: Deps, input: StageInput, durable = true): StageResult {
  return stageRawBatch(deps, [input], durable)[0];
}

/** Stages several messages in one transaction, one fsync for all (LMTP's group commit, import). */
export function stageRawBatch(deps: Deps, inputs: StageInput[], durable = true): StageResult[] {
  const at = deps.now().toISOString();
  const self = selfClaim();
  try {
    return inDurableWriteTx(deps.db, durable, () => inputs.map((input) => stageOne(deps, input, at, self)));
  } catch (e) {
    for (const input of inputs) discardUnstaged(input.raw);
    throw e;
  }
}

function stageOne(deps: Deps, { raw, envelope, source }: StageInput, at: string, self: string): StageResult {
  const key = redeliveryKey(raw.contentKey, envelope.recipient);
  const original = findStagedByDedupKey(deps.db, key);
  if (original) {
    const current = stagedClaim(deps.db, original.id)!;
    if (current.status === "new" && !claimIsLive(current.claimedBy, current.claimedAt, deps.now(), undefined, self)) {
      if (current.attempts >= MAX_ATTEMPTS) {
        const error = `processing was interrupted ${current.attempts} times (the process was killed or crashed); the raw message is kept: run ingest-mail resubmit ${original.id} once the cause is fixed`;
        setStagedStatus(deps.db, original.id, "error", at, { error, claimedBy: null, claimedAt: null }, error);
        deps.log(`staged mail ${original.id} error: ${error}`);
        return { kind: "gave-up", stagedId: original.id };
      }
      const attempt = current.attempts + 1;
      updateStaged(deps.db, original.id, { claimedBy: self, claimedAt: at, attempts: attempt, updatedAt: at });
      return { kind: "takeover", stagedId: original.id, claim: { by: self, attempt }, previous: current.claimedBy };
    }
  }
  const row = insertStaged(
    deps.db,
    {
      receivedAt: at,
      updatedAt: at,
      status: original ? "duplicate" : "new",
      source,
      dedupKey: original ? null : key,
      duplicateOf: original?.id ?? null,
      contentHash: raw.sha256,
      rawSize: raw.size,
      raw: raw.buffer,
      rawPath: raw.path,
      rawTruncated: raw.truncated,
      envelopeRecipient: envelope.recipient,
      envelopeSender: envelope.sender,
      headers: "",
      claimedBy: original ? null : self,
      claimedAt: original ? null : at,
      attempts: original ? 0 : 1,
    },
    original ? `redelivery of staged mail ${original.id}` : undefined,
  );
  return original ? { kind: "duplicate", stagedId: row.id, duplicateOf: original.id } : { kind: "staged", stagedId: row.id, claim: { by: self, attempt: 1 } };
}

/** Not staged: leave no spool file behind that no record points to; the MTA delivers again. */
export function discardUnstaged(raw: Pick<RawMessage, "path" | "existed">): void {
  if (raw.path && !raw.existed) rmSync(raw.path, { force: true });
}
