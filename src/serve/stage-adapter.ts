// The one place where the LMTP daemon touches the staging functions of the pipeline, so that moving
// to issue 9's `stageRawBatch` (raw bytes staged first, parsed afterwards) is a rewrite of this file
// alone. Today it reads and parses the message first (`prepare`, as `import` does) and then writes
// one staged record per recipient, for every message of a group commit, in ONE durable transaction:
// one fsync for the lot (issue 12, point 3).
//
// Rewiring to issue 9 (stageRaw / stageRawBatch):
//   prepareDelivery → readRaw(chunks, { spoolDir, inlineMaxBytes, durable: true }) (no parsing here);
//   stageDeliveries → stageRawBatch(deps, one input per (delivery, recipient): { raw, envelope:
//     { recipient, sender }, source: "lmtp" }, { durable: true }), regrouped per delivery. Two things
//     it must keep: one input failing must not fail the others (a savepoint per input; 451 for
//     that recipient only), and the duplicate check is per recipient (recipientKey below).
//   discardDelivery → whatever removes an unstaged spool file.
import { inDurableWriteTx, inWriteTx, findStagedByDedupKey, insertAttachments, insertStaged } from "../db/queries.js";
import type { Deps } from "../pipeline/deps.js";
import { prepare, prepareSettings, type Prepared } from "../pipeline/ingest.js";
import { dedupKey, discardUnstaged } from "../pipeline/stage.js";

/** One LMTP transaction that came in whole: its bytes (already read) and its envelope. */
export interface Delivery {
  prepared: Prepared;
  sender: string | null;
  recipients: string[];
}

/** Per recipient: staged (any status: new, duplicate, error...) or not stored (the MTA retries). */
export type RecipientResult = { stagedId: number; status: string; duplicateOf: number | null } | { error: Error };

/** Reads (spooling past inlineRawMaxBytes, fsynced) and parses the message. */
export function prepareDelivery(deps: Deps, chunks: AsyncIterable<Buffer>): Promise<Prepared> {
  return prepare(chunks, prepareSettings(deps, { durable: true }));
}

/** Gives back what a prepared message wrote (spool, attachment files) when nothing was staged. */
export function discardDelivery(prepared: Prepared): void {
  discardUnstaged(prepared);
}

// One record per recipient (issue 12 point 2: each takes its own route and address ids), so the
// redelivery check is per recipient too: the same message (same Message-ID, else same bytes) for
// the same recipient is a duplicate; for another recipient it is that recipient's copy.
const recipientKey = (prepared: Prepared, recipient: string) => `${dedupKey(prepared.parsed.messageId, prepared.raw.sha256)} rcpt:${recipient.toLowerCase()}`;

const joinAddrs = (list: { address: string }[]) => (list.length ? list.map((a) => a.address).join(", ") : null);

/**
 * Stages every recipient of every delivery in one durable transaction. A recipient whose insert
 * fails (its savepoint rolls back) gets an error and the others still commit; a failed commit
 * fails them all. Returns one result per recipient, in order, per delivery.
 */
export function stageDeliveries(deps: Deps, deliveries: Delivery[]): RecipientResult[][] {
  const results: RecipientResult[][] = deliveries.map((d) => d.recipients.map(() => ({ error: new Error("not staged") })));
  try {
    inDurableWriteTx(deps.db, true, () => {
      const at = deps.now().toISOString();
      deliveries.forEach((d, i) => {
        d.recipients.forEach((rcpt, j) => {
          try {
            // Nested: a savepoint, so one recipient's failure rolls back only its own rows.
            results[i][j] = inWriteTx(deps.db, () => stageOne(deps, d, rcpt, at));
          } catch (e) {
            results[i][j] = { error: e as Error };
          }
        });
      });
    });
  } catch (e) {
    // The commit itself failed: nothing of this group is on disk.
    for (const r of results) r.fill({ error: e as Error });
  }
  // Files are shared by the recipients of one message: removed only if no record points at them.
  deliveries.forEach((d, i) => {
    if (results[i].every((r) => "error" in r)) discardUnstaged(d.prepared);
  });
  return results;
}

function stageOne(deps: Deps, d: Delivery, recipient: string, at: string): RecipientResult {
  const { raw, parsed, fault } = d.prepared;
  const key = recipientKey(d.prepared, recipient);
  const original = findStagedByDedupKey(deps.db, key);
  const status = original ? "duplicate" : (fault?.status ?? "new");
  const row = insertStaged(
    deps.db,
    {
      receivedAt: at,
      updatedAt: at,
      status,
      source: "lmtp",
      dedupKey: original ? null : key,
      duplicateOf: original?.id ?? null,
      contentHash: raw.sha256,
      rawSize: raw.size,
      raw: raw.buffer,
      rawPath: raw.path,
      envelopeRecipient: recipient,
      envelopeSender: d.sender,
      messageId: parsed.messageId,
      inReplyTo: parsed.inReplyTo,
      references: parsed.references.join(" ") || null,
      fromAddress: parsed.from?.address.toLowerCase() ?? null,
      fromName: parsed.from?.name || null,
      toAddresses: joinAddrs(parsed.to),
      ccAddresses: joinAddrs(parsed.cc),
      deliveredTo: parsed.deliveredTo.join(", ") || null,
      subject: parsed.subject,
      date: parsed.date,
      headers: parsed.headerBlock,
      textBody: parsed.text,
      htmlBody: parsed.html,
      reason: fault?.status === "invalid" ? fault.text : null,
      error: fault?.status === "error" ? fault.text : null,
    },
    original ? `redelivery of staged mail ${original.id}` : fault?.text,
  );
  insertAttachments(
    deps.db,
    parsed.attachments.map((a) => ({ stagedMailId: row.id, filename: a.filename, contentType: a.contentType, size: a.size, contentId: a.contentId, sha256: a.sha256, storedPath: a.storedPath })),
  );
  return { stagedId: row.id, status, duplicateOf: original?.id ?? null };
}
