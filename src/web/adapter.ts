// The console's only way into the pipeline's write paths: resubmit (Maximo, domain.md §1.6) and
// outbox retry (issue 9.8). One small file, so that a change in either is followed here in a line.
import { getStaged, inWriteTx, setStagedStatus } from "../db/queries.js";
import { RESUBMITTABLE } from "../db/web-queries.js";
import type { Deps } from "../pipeline/deps.js";
import { processStaged } from "../pipeline/ingest.js";
import type { Outcome } from "../pipeline/outcome.js";
import { retryOutbox } from "../pipeline/outbound.js";

export type ResubmitResult = { ok: true; outcome: Outcome } | { ok: false; reason: string };

/**
 * What `ingest-mail resubmit ID [--subject T]` does (src/cli/commands/resubmit.ts), as a value
 * instead of output: back to `new` with the correction kept as the subject override, then processed
 * again from the raw bytes now.
 */
export async function resubmit(deps: Deps, id: number, subject?: string): Promise<ResubmitResult> {
  const fixed = subject?.replace(/[\r\n]+/g, " ").trim();
  if (subject !== undefined && !fixed) return { ok: false, reason: "the subject must not be empty" };
  const previous = inWriteTx(deps.db, () => {
    const row = getStaged(deps.db, id);
    if (!row) return { reason: `no staged mail ${id}` };
    if (!(RESUBMITTABLE as readonly string[]).includes(row.status)) return { reason: `staged mail ${id} is ${row.status}; only ${RESUBMITTABLE.join(", ")} mail can be resubmitted` };
    const patch = { error: null, reason: null, claimedBy: null, claimedAt: null, ...(fixed ? { subjectOverride: fixed } : {}) };
    setStagedStatus(deps.db, id, "new", deps.now().toISOString(), patch, `resubmitted from the web console${fixed ? ` with subject "${fixed}"` : ""}`);
    return { status: row.status };
  });
  if ("reason" in previous) return { ok: false, reason: previous.reason! };
  // As the CLI: releasing a held mail overrules the flood limit.
  return { ok: true, outcome: await processStaged(deps, id, { skipFlood: previous.status === "held" }) };
}

export type RetryResult = { ok: true; status: string; error: string | null } | { ok: false; reason: string };

/** `ingest-mail outbox retry ID`: the stored message sent again, as it was. */
export async function retryOutbound(deps: Deps, id: number): Promise<RetryResult> {
  const known = deps.db.$client.prepare(`SELECT status FROM outbound_mails WHERE id = ?`).get(id) as { status: string } | undefined;
  if (!known) return { ok: false, reason: `no outbound mail ${id}` };
  if (known.status !== "failed") return { ok: false, reason: `outbound mail ${id} is ${known.status}; only failed mail is sent again` };
  const [result] = await retryOutbox(deps, [id]);
  if (!result) return { ok: false, reason: `outbound mail ${id} was not retried` };
  return { ok: true, status: result.status, error: result.error };
}
