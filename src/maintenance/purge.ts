// Issue 14: retention (`purge --older-than`) and erasure of one person (`purge --email`), for GDPR
// requests and so staged mail, raw bytes and attachments do not grow forever (RT's shredder,
// Zammad's data privacy tasks). Erased bytes must not survive anywhere:
// - in the database: the purge's transaction asks for secure delete (SQLite: PRAGMA secure_delete
//   overwrites the deleted rows with zeros), but copies left earlier (an UPDATE moves a row and frees
//   its old cells and overflow pages without zeroing them; the test found a staged mail's body that
//   way) survive it, so a purge that removed anything then compacts the store (SQLite: VACUUM, the
//   file rebuilt from live rows only, and a TRUNCATE checkpoint that moves the new pages into the main
//   file and empties the WAL: https://sqlite.org/pragma.html#pragma_secure_delete,
//   https://sqlite.org/lang_vacuum.html, https://sqlite.org/pragma.html#pragma_wal_checkpoint);
// - on disk: spool and attachment files are content-hashed and may be shared by several records,
//   so a file is removed once no remaining row refers to it. That check and the removal happen
//   under the purge's write lock, so no ingest can commit a new reference to the file in between
//   (a crash before the commit leaves rows that were being purged without their files; the next
//   purge finishes them).
import { DEFAULT_PURGE_STATUSES, PURGEABLE } from "../domain/statuses.js";
import { rmSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { Config } from "../config.js";
import { filesOfStaged, noneRemoved, removeOutboundBefore, removePerson, removeStaged, rowsOfPerson, stagedOlderThan, unreferenced, type Removed } from "../store/queries/purge-queries.js";
import type { Deps } from "../pipeline/deps.js";
import type { Db } from "../store/store.js";

/** Statuses a purge may take: never mail that is still to be processed (new, in_process, workflow). */
export { DEFAULT_PURGE_STATUSES, PURGEABLE } from "../domain/statuses.js";
/** By default, mail that is done with; error, held and spam mail wait for an administrator. */


export interface PurgeReport {
  dryRun: boolean;
  removed: Removed;
  files: { removed: number; bytes: number };
  /** The database file was rebuilt from the remaining rows (whenever something was removed). */
  vacuumed: boolean;
  /** done: the WAL was emptied; busy: a reader kept it (run again when idle); skipped: dry run or nothing removed. */
  checkpoint: "done" | "busy" | "skipped";
}

export interface AgePurge {
  /** ISO time: staged mail received before it goes. */
  before: string;
  statuses: string[];
  keepText: boolean;
  dryRun: boolean;
}

class DryRun extends Error {}

/**
 * Runs `work` in one write transaction with secure delete on; a dry run rolls it back. Then, when
 * something went, the store is compacted (SQLite: VACUUM and a TRUNCATE checkpoint).
 */
async function purge(deps: Deps, dryRun: boolean, work: (tx: Db, removed: Removed) => Promise<string[]>): Promise<PurgeReport> {
  const removed = noneRemoved();
  const files = { removed: 0, bytes: 0 };
  try {
    await deps.db.write(
      async (tx) => {
        const candidates = await work(tx, removed);
        for (const f of (await unreferenced(tx, candidates)).filter((p) => inside(p, [deps.paths.spoolDir, deps.paths.attachmentsDir]))) {
          const size = sizeOf(f);
          if (size === null) continue;
          if (!dryRun) rmSync(f, { force: true });
          files.removed++;
          files.bytes += size;
        }
        if (dryRun) throw new DryRun();
      },
      { secureDelete: true },
    );
  } catch (e) {
    if (!(e instanceof DryRun)) throw e;
  }
  const report: PurgeReport = { dryRun, removed, files, vacuumed: false, checkpoint: "skipped" };
  if (!dryRun && Object.values(removed).some((n) => n > 0)) {
    report.checkpoint = (await deps.store.compact()).checkpoint;
    report.vacuumed = true;
  }
  return report;
}

/** Only files under our own folders are ever removed, whatever a row says. */
function inside(path: string, dirs: string[]): boolean {
  const p = resolve(path);
  return dirs.some((d) => p.startsWith(resolve(d) + sep));
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

/** Removes staged mail older than `before` (raw bytes, attachments, history, outgoing mail and,
 * unless keepText, the conversation recorded from it). Issues themselves stay. */
export function purgeByAge(deps: Deps, p: AgePurge): Promise<PurgeReport> {
  return purge(deps, p.dryRun, async (tx, removed) => {
    const staged = await stagedOlderThan(tx, p.before, p.statuses);
    const files = await filesOfStaged(tx, staged);
    await removeStaged(tx, staged, p.keepText, removed);
    await removeOutboundBefore(tx, p.before, removed);
    return files;
  });
}

/** Erases one person: their user, identifications, the issues they are the customer of, their
 * interactions and actions, the mail they sent (with attachments) and the mail sent to them. */
export function purgeByEmail(deps: Deps, email: string, dryRun: boolean): Promise<PurgeReport> {
  const address = email.trim().toLowerCase();
  return purge(deps, dryRun, async (tx, removed) => {
    const person = await rowsOfPerson(tx, address);
    const files = await filesOfStaged(tx, person.staged);
    await removeStaged(tx, person.staged, false, removed);
    await removePerson(tx, address, person, removed);
    return files;
  });
}

export type Retention = NonNullable<Config["retention"]>;

/** One retention run, as the configuration's `retention` key says: for the long-running modes to
 * call on a schedule (and `purge` without --older-than). */
export async function purgeOnce(deps: Deps, retention: Retention): Promise<PurgeReport & { before: string }> {
  const before = new Date(deps.now().getTime() - retention.olderThanDays * 86_400_000).toISOString();
  const report = await purgeByAge(deps, { before, statuses: retention.statuses ?? DEFAULT_PURGE_STATUSES, keepText: retention.keepText ?? false, dryRun: false });
  return { ...report, before };
}
