// Issue 14: the configured retention, run by a long-running mode (poll --interval, a future LMTP
// listener) between its cycles: at the first cycle, then once per `everyMs` (a day by default).
// A failed run is reported and tried again at the next due time; it never stops the mode.
import type { Deps } from "../pipeline/deps.js";
import { purgeOnce, type PurgeReport } from "./purge.js";

export interface RetentionSchedule {
  /** Runs the purge when it is due; returns its report, or null when not due (or not configured). */
  tick(): Promise<(PurgeReport & { before: string }) | null>;
}

export const DAY_MS = 86_400_000;

/** `deps` is read at every tick: a daemon's reload (SIGHUP) brings a new configuration. */
export function retentionSchedule(deps: () => Deps, everyMs: number = DAY_MS): RetentionSchedule {
  let next = 0;
  return {
    async tick() {
      const d = deps();
      const retention = d.config.retention;
      const now = d.now().getTime();
      if (!retention || now < next) return null;
      next = now + everyMs;
      return purgeOnce(d, retention);
    },
  };
}

/** A tick for a long-running mode: the result or the failure goes to its log; it never rejects. */
export async function purgeOnSchedule(schedule: RetentionSchedule, log: (line: string) => void): Promise<void> {
  try {
    const r = await schedule.tick();
    if (r) log(`retention: purged ${r.removed.stagedMails} staged mails received before ${r.before}, ${r.files.removed} files${r.checkpoint === "busy" ? " (WAL still held by a reader)" : ""}`);
  } catch (e) {
    log(`retention: purge failed: ${(e as Error).message} (tried again at the next due time)`);
  }
}
