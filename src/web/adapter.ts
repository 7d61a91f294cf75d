// The console's only way into the pipeline's write paths: resubmit (Maximo, domain.md §1.6) and
// outbox retry (issue 9.8). One small file, so that a change in either is followed here in a line.
import type { Deps } from "../pipeline/deps.js";
import type { Outcome } from "../pipeline/outcome.js";
import { retryOutbox } from "../pipeline/outbound.js";
import { resubmitStaged } from "../pipeline/resubmit.js";
import { outboundStatus } from "../store/queries/web-queries.js";

export type ResubmitResult = { ok: true; outcome: Outcome } | { ok: false; reason: string };

/** What `ingest-mail resubmit ID [--subject T]` does, as a value instead of output. */
export async function resubmit(deps: Deps, id: number, subject?: string): Promise<ResubmitResult> {
  const r = await resubmitStaged(deps, id, { subject, via: "from the web console" });
  return r.ok ? r : { ok: false, reason: r.reason };
}

export type RetryResult = { ok: true; status: string; error: string | null } | { ok: false; reason: string };

/** `ingest-mail outbox retry ID`: the stored message sent again, as it was. */
export async function retryOutbound(deps: Deps, id: number): Promise<RetryResult> {
  const status = await outboundStatus(deps.db, id);
  if (!status) return { ok: false, reason: `no outbound mail ${id}` };
  if (status !== "failed") return { ok: false, reason: `outbound mail ${id} is ${status}; only failed mail is sent again` };
  const [result] = await retryOutbox(deps, [id]);
  if (!result) return { ok: false, reason: `outbound mail ${id} was not retried` };
  return { ok: true, status: result.status, error: result.error };
}
