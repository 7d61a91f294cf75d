// Issue 14: the configured retention, run by a long-running mode (poll --interval, a future LMTP
// listener) between its cycles: at the first cycle, then once per `everyMs` (a day by default).
// A failed run is reported and tried again at the next due time; it never stops the mode.
import type { Deps } from "../pipeline/deps.js";
import { purgeOnce, type PurgeReport } from "./purge.js";

export interface RetentionSchedule {
  /** Runs the purge when it is due; returns its report, or null when not due (or not configured). */
  tick(): (PurgeReport & { before: string }) | null;
}

export const DAY_MS = 86_400_000;

export function retentionSchedule(deps: Deps, everyMs: number = DAY_MS): RetentionSchedule {
  let next = 0;
  return {
    tick() {
      const retention = deps.config.retention;
      const now = deps.now().getTime();
      if (!retention || now < next) return null;
      next = now + everyMs;
      return purgeOnce(deps, retention);
    },
  };
}
