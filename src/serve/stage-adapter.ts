// The one place where the LMTP daemon touches the staging functions of the pipeline (issue 9's
// stageRawBatch: the raw bytes, envelope, source and time, no parsing before the commit). Every
// recipient of every message of a group commit is staged in ONE durable transaction: one fsync
// for the lot (issue 12, point 3); each recipient in a savepoint of its own, so that one
// recipient's failure is a 451 for that recipient only (point 2).
import type { Deps } from "../pipeline/deps.js";
import { readSettings } from "../pipeline/ingest.js";
import { readRaw, type RawMessage } from "../pipeline/read-raw.js";
import { discardUnstaged, stageRawBatch, type StageResult } from "../pipeline/stage.js";

/** One LMTP transaction that came in whole: its bytes (already read) and its envelope. */
export interface Delivery {
  raw: RawMessage;
  sender: string | null;
  recipients: string[];
}

/** Per recipient: what staging did (staged, duplicate, takeover, gave-up), or why it could not. */
export type RecipientResult = StageResult | { kind: "failed"; error: Error };

/** Reads the bytes (spooled and fsynced past inlineRawMaxBytes); SIZE keeps them within maxMessageBytes. */
export function readDelivery(deps: Deps, chunks: AsyncIterable<Buffer>): Promise<RawMessage> {
  return readRaw(chunks, readSettings(deps, { durable: true }));
}

/** Gives back the spool file of a message none of whose recipients was staged. */
export function discardDelivery(raw: RawMessage): void {
  discardUnstaged(raw);
}

/**
 * Stages every recipient of every delivery in one durable transaction; one result per recipient,
 * in order, per delivery. A recipient whose insert fails is rolled back to its own savepoint; a
 * failed commit fails them all. The redelivery check is per recipient (stageRawBatch's key holds
 * the envelope recipient): the same message for another recipient is that recipient's own copy.
 */
export async function stageDeliveries(deps: Deps, deliveries: Delivery[]): Promise<RecipientResult[][]> {
  const results: RecipientResult[][] = deliveries.map((d) => d.recipients.map(() => ({ kind: "failed", error: new Error("not staged") })));
  try {
    await deps.db.write(
      async (tx) => {
        const inTx = { ...deps, db: tx };
        for (const [i, d] of deliveries.entries()) {
          // The recipients share the spool file: a failing one must not remove it (stageRawBatch
          // discards its input's file on failure); it is removed below if no recipient was staged.
          const shared = { ...d.raw, existed: true };
          for (const [j, recipient] of d.recipients.entries()) {
            try {
              // Nested in this transaction: stageRawBatch's own transaction is a savepoint, not durable on its own.
              results[i][j] = (await stageRawBatch(inTx, [{ raw: shared, envelope: { recipient, sender: d.sender }, source: "lmtp" }], false))[0];
            } catch (e) {
              results[i][j] = { kind: "failed", error: e as Error };
            }
          }
        }
      },
      { durable: true },
    );
  } catch (e) {
    // The commit itself failed: nothing of this group is on disk.
    for (const r of results) r.fill({ kind: "failed", error: e as Error });
  }
  deliveries.forEach((d, i) => {
    if (results[i].every((r) => r.kind === "failed")) discardUnstaged(d.raw);
  });
  return results;
}
