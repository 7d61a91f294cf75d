// `ingest-mail recover`: finish mail a crash (kill, power loss) left `new` (or, in older databases,
// in_process / workflow). The workflow commits atomically with `complete`, so such a record has no
// partial issue work and processing it again duplicates nothing. A record whose process is still
// alive keeps it (issue 9.6: claims). Also sweeps files no record refers to.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { getStaged, listStuckStaged, referencedFiles, setStagedStatus } from "../../store/queries/queries.js";
import { processStaged } from "../../pipeline/ingest.js";
import type { Outcome } from "../../pipeline/outcome.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { summary } from "./ingest.js";

const OLD_STUCK = ["in_process", "workflow"];
/** Orphan files younger than this may belong to a delivery still under way. */
const ORPHAN_AGE_MS = 60 * 60_000;

export async function run(opts: CommonOptions & { olderThan?: number }): Promise<void> {
  const deps = await makeDeps(opts);
  const minutes = opts.olderThan ?? deps.config.recoverAfterMinutes;
  const before = new Date(deps.now().getTime() - minutes * 60_000).toISOString();
  const results: Outcome[] = [];
  try {
    for (const stuck of await listStuckStaged(deps.db, before)) {
      // Records of older versions that stopped in in_process / workflow go back to new first.
      if (OLD_STUCK.includes(stuck.status)) {
        await deps.db.write(async (tx) => {
          const row = await getStaged(tx, stuck.id);
          if (row && OLD_STUCK.includes(row.status)) await setStagedStatus(tx, row.id, "new", deps.now().toISOString(), { claimedBy: null, claimedAt: null }, `recovered from ${row.status}`);
        });
      }
      const outcome = await processStaged(deps, stuck.id);
      // A record a live process still holds is left to it (its outcome says so and stays `new`).
      if (outcome.status !== "new") results.push(outcome);
    }
    const now = deps.now().getTime();
    const removedTemporaryFiles = sweepTemporaryFiles([deps.paths.attachmentsDir, deps.paths.spoolDir], Date.parse(before));
    const removedOrphanFiles = sweepOrphans(deps.paths.spoolDir, deps.paths.attachmentsDir, await referencedFiles(deps.db), now - ORPHAN_AGE_MS);
    if (opts.json) return printJson({ olderThanMinutes: minutes, recovered: results, removedTemporaryFiles, removedOrphanFiles });
    const lines = results.length ? results.map(summary) : [`nothing to recover (no new/in_process/workflow mail older than ${minutes} minutes)`];
    if (removedOrphanFiles.length) lines.push(`removed ${removedOrphanFiles.length} spool/attachment files no record refers to`);
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await deps.store.close();
  }
}

/** A process killed while writing an attachment or spool file leaves its `.tmp-*` file behind; no
 * record points at it and the MTA's retry writes a new one. Only files older than the threshold. */
function sweepTemporaryFiles(dirs: string[], beforeMs: number): string[] {
  const removed: string[] = [];
  for (const dir of dirs) for (const name of namesIn(dir)) if (name.startsWith(".tmp-") && removeIfOlder(join(dir, name), beforeMs)) removed.push(join(dir, name));
  return removed;
}

/** Issue 9.6: spool and attachment files older than an hour that no record refers to (a process
 * killed after writing them, a rolled-back import batch). */
function sweepOrphans(spoolDir: string, attachmentsDir: string, referenced: Set<string>, beforeMs: number): string[] {
  const removed: string[] = [];
  const consider = (path: string) => {
    if (!referenced.has(path) && removeIfOlder(path, beforeMs)) removed.push(path);
  };
  for (const name of namesIn(spoolDir)) if (name.endsWith(".eml")) consider(join(spoolDir, name));
  for (const sub of namesIn(attachmentsDir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const name of namesIn(join(attachmentsDir, sub))) if (/^[0-9a-f]{64}$/.test(name)) consider(join(attachmentsDir, sub, name));
  }
  return removed;
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // not created yet
  }
}

function removeIfOlder(path: string, beforeMs: number): boolean {
  try {
    if (statSync(path).mtimeMs >= beforeMs) return false;
    rmSync(path, { force: true });
    return true;
  } catch {
    return false; // gone meanwhile (its writer finished)
  }
}
