// `ingest-mail recover`: finish mail a crash (kill, power loss) left in new / in_process / workflow.
// The workflow commits atomically with `complete`, so such a record has no partial issue work and
// processing it again duplicates nothing.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { getStaged, inWriteTx, listStuckStaged, setStagedStatus } from "../../db/queries.js";
import { processStaged } from "../../pipeline/ingest.js";
import type { Outcome } from "../../pipeline/outcome.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { summary } from "./ingest.js";

const STUCK = ["new", "in_process", "workflow"];

export async function run(opts: CommonOptions & { olderThan?: number }): Promise<void> {
  const deps = makeDeps(opts);
  const minutes = opts.olderThan ?? deps.config.recoverAfterMinutes;
  const before = new Date(deps.now().getTime() - minutes * 60_000).toISOString();
  const results: Outcome[] = [];
  for (const stuck of listStuckStaged(deps.db, before)) {
    // Claim it: another recover (or a slow ingest) may have moved it on since the listing.
    const claimed = inWriteTx(deps.db, () => {
      const row = getStaged(deps.db, stuck.id);
      if (!row || !STUCK.includes(row.status) || row.updatedAt >= before) return false;
      setStagedStatus(deps.db, row.id, "new", deps.now().toISOString(), {}, `recovered from ${row.status}`);
      return true;
    });
    if (claimed) results.push(await processStaged(deps, stuck.id));
  }
  const removedTemporaryFiles = sweepTemporaryFiles([deps.paths.attachmentsDir, deps.paths.spoolDir], Date.parse(before));
  if (opts.json) return printJson({ olderThanMinutes: minutes, recovered: results, removedTemporaryFiles });
  process.stdout.write(results.length ? `${results.map(summary).join("\n")}\n` : `nothing to recover (no new/in_process/workflow mail older than ${minutes} minutes)\n`);
}

/** A process killed while writing an attachment or spool file leaves its `.tmp-*` file behind; no
 * record points at it and the MTA's retry writes a new one. Only files older than the threshold. */
function sweepTemporaryFiles(dirs: string[], beforeMs: number): string[] {
  const removed: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // not created yet
    }
    for (const name of names) {
      if (!name.startsWith(".tmp-")) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).mtimeMs < beforeMs) {
          rmSync(path, { force: true });
          removed.push(path);
        }
      } catch {
        // gone meanwhile (its writer finished)
      }
    }
  }
  return removed;
}
