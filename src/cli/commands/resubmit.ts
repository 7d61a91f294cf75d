// `ingest-mail resubmit ID`: Maximo's resubmit. invalid / error / held → new, processed again now.
import { getStaged, inWriteTx, setStagedStatus } from "../../db/queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { processStaged } from "../../pipeline/ingest.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { summary } from "./ingest.js";

const RESUBMITTABLE = ["invalid", "error", "held", "spam"];

export async function run(id: number, opts: CommonOptions & { subject?: string }): Promise<void> {
  const deps = makeDeps(opts);
  const previous = inWriteTx(deps.db, () => {
    const row = getStaged(deps.db, id);
    if (!row) throw new NotFoundError(`no staged mail ${id}`);
    if (!RESUBMITTABLE.includes(row.status))
      throw new UsageError(`staged mail ${id} is ${row.status}; only ${RESUBMITTABLE.join(", ")} mail can be resubmitted${row.status === "complete" ? " (it has already been processed)" : ""}`);
    if (opts.subject !== undefined && !opts.subject.trim()) throw new UsageError("--subject must not be empty");
    const patch = { error: null, reason: null, ...(opts.subject !== undefined ? { subject: opts.subject.trim() } : {}) };
    setStagedStatus(deps.db, id, "new", deps.now().toISOString(), patch, `resubmitted${opts.subject !== undefined ? ` with subject "${opts.subject.trim()}"` : ""}`);
    return row.status;
  });
  // Releasing a held mail is the administrator overruling the flood limit: do not hold it again.
  const outcome = await processStaged(deps, id, { skipFlood: previous === "held", releasedSpam: previous === "spam" });
  if (opts.json) printJson(outcome);
  else process.stdout.write(`${summary(outcome)}\n`);
}
