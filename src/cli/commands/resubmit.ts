// `ingest-mail resubmit ID` (Maximo's resubmit) and `resubmit --status S [--since T]` in bulk:
// invalid / error / held → new, then processed again now from the raw bytes, parsed anew with the
// current configuration (issue 9.2): sender, body, attachments and confirmation as if it had just
// arrived. A --subject correction is kept on the record and applied over every later parse.
import { RESUBMITTABLE } from "../../domain/statuses.js";
import { listStagedIds } from "../../store/queries/queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import type { Deps } from "../../pipeline/deps.js";
import { resubmitStaged } from "../../pipeline/resubmit.js";
import type { Outcome } from "../../pipeline/outcome.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { summary } from "./ingest.js";

export { RESUBMITTABLE };

export interface ResubmitOptions extends CommonOptions {
  subject?: string;
  status?: string;
  since?: string;
}

export async function run(id: number | undefined, opts: ResubmitOptions): Promise<void> {
  if (opts.subject !== undefined && !opts.subject.trim()) throw new UsageError("--subject must not be empty");
  if ((id === undefined) === (opts.status === undefined)) throw new UsageError("give one staged mail id, or --status (with --since) to resubmit in bulk");
  if (opts.status !== undefined && !(RESUBMITTABLE as readonly string[]).includes(opts.status)) throw new UsageError(`--status must be one of ${RESUBMITTABLE.join(", ")}`);
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) throw new UsageError(`--since must be a date or time (2026-12-01, 2026-12-01T08:00:00Z), got "${opts.since}"`);
  const deps = await makeDeps(opts);
  try {
    if (id !== undefined) {
      const outcome = await resubmitOne(deps, id, opts.subject);
      if (opts.json) printJson(outcome);
      else process.stdout.write(`${summary(outcome)}\n`);
      return;
    }
    const since = opts.since === undefined ? null : new Date(opts.since).toISOString();
    const outcomes: Outcome[] = [];
    for (const staged of await listStagedIds(deps.db, [opts.status!], since)) outcomes.push(await resubmitOne(deps, staged, opts.subject));
    if (opts.json) printJson({ resubmitted: outcomes });
    else process.stdout.write(outcomes.length ? `${outcomes.map(summary).join("\n")}\n` : `no ${opts.status} mail${since ? ` since ${since}` : ""} to resubmit\n`);
  } finally {
    await deps.store.close();
  }
}

async function resubmitOne(deps: Deps, id: number, subject: string | undefined): Promise<Outcome> {
  const r = await resubmitStaged(deps, id, { subject });
  if (r.ok) return r.outcome;
  throw r.notFound ? new NotFoundError(r.reason) : new UsageError(r.reason);
}
