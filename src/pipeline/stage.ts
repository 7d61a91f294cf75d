// domain.md §1.1, §1.7: the staged-mail record, committed on its own before any other work. From
// here on the mail cannot be lost. A redelivery (same Message-ID, else same content) is recorded
// as a duplicate of the original and goes no further.
import { rmSync } from "node:fs";
import { findStagedByDedupKey, inDurableWriteTx, insertAttachments, insertStaged, type StagedMail } from "../db/queries.js";
import type { Deps } from "./deps.js";
import type { ParsedMail } from "./parse.js";
import type { RawMessage } from "./read-raw.js";

export interface Envelope {
  recipient: string | null;
  sender: string | null;
}

/** `row` is the record as staged (but the raw bytes), so processing need not read it back. */
export type StageResult = { stagedId: number; duplicateOf: null; status: string; row: StagedMail } | { stagedId: number; duplicateOf: number; status: "duplicate"; row: StagedMail };

export interface StageInput {
  raw: RawMessage;
  parsed: ParsedMail;
  envelope: Envelope;
  source: string;
  /** Set when the mail cannot go further: invalid (too large) or error (unparseable). */
  fault?: { status: "invalid" | "error"; text: string };
  /** Commit with fsync before returning (default); import relaxes it, its source files remain. */
  durable?: boolean;
}

export function dedupKey(messageId: string | null, sha256: string): string {
  return messageId ? `mid:${messageId.toLowerCase()}` : `sha:${sha256}`;
}

const joinAddrs = (list: { address: string }[]) => (list.length ? list.map((a) => a.address).join(", ") : null);

export function stageMail(deps: Deps, input: StageInput): StageResult {
  const { raw, parsed, envelope } = input;
  const at = deps.now().toISOString();
  const key = dedupKey(parsed.messageId, raw.sha256);
  try {
    return inDurableWriteTx(deps.db, input.durable !== false, () => {
      const original = findStagedByDedupKey(deps.db, key);
      const status = original ? "duplicate" : (input.fault?.status ?? "new");
      const row = insertStaged(
        deps.db,
        {
          receivedAt: at,
          updatedAt: at,
          status,
          source: input.source,
          dedupKey: original ? null : key,
          duplicateOf: original?.id ?? null,
          contentHash: raw.sha256,
          rawSize: raw.size,
          raw: raw.buffer,
          rawPath: raw.path,
          envelopeRecipient: envelope.recipient,
          envelopeSender: envelope.sender,
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
          reason: input.fault?.status === "invalid" ? input.fault.text : null,
          error: input.fault?.status === "error" ? input.fault.text : null,
        },
        original ? `redelivery of staged mail ${original.id}` : input.fault?.text,
      );
      const stagedId = row.id;
      insertAttachments(
        deps.db,
        parsed.attachments.map((a) => ({ stagedMailId: stagedId, filename: a.filename, contentType: a.contentType, size: a.size, contentId: a.contentId, sha256: a.sha256, storedPath: a.storedPath })),
      );
      return original ? { stagedId, duplicateOf: original.id, status: "duplicate" as const, row } : { stagedId, duplicateOf: null, status, row };
    });
  } catch (e) {
    discardUnstaged(input);
    throw e;
  }
}

/** Not staged: leave nothing behind that no record points to; the MTA (or import) delivers again. */
export function discardUnstaged({ raw, parsed }: Pick<StageInput, "raw" | "parsed">): void {
  for (const f of parsed.createdFiles) rmSync(f, { force: true });
  if (raw.path && !raw.existed) rmSync(raw.path, { force: true });
}
