// Maximo's resubmit (domain.md §1.6), for the CLI and the web console alike: an invalid, error,
// held or spam record goes back to `new` with the administrator's subject correction kept as an
// override, and is processed again now from its raw bytes (issue 9.2).
import { getStaged, setStagedStatus } from "../store/queries/queries.js";
import { RESUBMITTABLE } from "../domain/statuses.js";
import type { Deps } from "./deps.js";
import { processStaged } from "./ingest.js";
import type { Outcome } from "./outcome.js";

export type Resubmitted = { ok: true; outcome: Outcome } | { ok: false; notFound: boolean; reason: string };

export async function resubmitStaged(deps: Deps, id: number, opts: { subject?: string; via?: string } = {}): Promise<Resubmitted> {
  const subject = opts.subject?.replace(/[\r\n]+/g, " ").trim();
  if (opts.subject !== undefined && !subject) return { ok: false, notFound: false, reason: "the subject must not be empty" };
  const previous = await deps.db.write(async (tx) => {
    const row = await getStaged(tx, id);
    if (!row) return { notFound: true, reason: `no staged mail ${id}` };
    if (!(RESUBMITTABLE as readonly string[]).includes(row.status))
      return { notFound: false, reason: `staged mail ${id} is ${row.status}; only ${RESUBMITTABLE.join(", ")} mail can be resubmitted${row.status === "complete" ? " (it has already been processed)" : ""}` };
    const patch = { error: null, reason: null, claimedBy: null, claimedAt: null, ...(subject ? { subjectOverride: subject } : {}) };
    await setStagedStatus(tx, id, "new", deps.now().toISOString(), patch, `resubmitted${opts.via ? ` ${opts.via}` : ""}${subject ? ` with subject "${subject}"` : ""}`);
    return { status: row.status };
  });
  if (!("status" in previous)) return { ok: false, notFound: previous.notFound, reason: previous.reason };
  // Releasing a held or spam-flagged mail is the administrator overruling the flood limit or the
  // MTA's spam flag: neither holds it again.
  return { ok: true, outcome: await processStaged(deps, id, { skipFlood: previous.status === "held", releasedSpam: previous.status === "spam" }) };
}
