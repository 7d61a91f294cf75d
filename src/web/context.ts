// What the console's routes share: the pipeline's dependencies, the security state, and the
// per-status counts (a grouped count over the status index, recomputed at most every few seconds so
// that a page view at a million mails never waits on it twice in a row).
import type { Hono } from "hono";
import { stagedCounts } from "../db/web-queries.js";
import type { Deps } from "../pipeline/deps.js";
import type { Security, WebEnv } from "./security.js";

export interface WebContext {
  deps: Deps;
  sec: Security;
  counts(): { counts: Record<string, number>; at: Date };
  /** After an action changed statuses: the next page counts again. */
  invalidateCounts(): void;
  /** How many rows a list page shows. */
  pageSize: number;
}

export type App = Hono<WebEnv>;

export function makeContext(deps: Deps, sec: Security, opts: { countsMaxAgeMs?: number; pageSize?: number } = {}): WebContext {
  const maxAge = opts.countsMaxAgeMs ?? 5000;
  let cached: { counts: Record<string, number>; at: Date } | null = null;
  return {
    deps,
    sec,
    pageSize: opts.pageSize ?? 50,
    counts() {
      const now = deps.now();
      if (!cached || now.getTime() - cached.at.getTime() > maxAge) cached = { counts: stagedCounts(deps.db), at: now };
      return cached;
    },
    invalidateCounts() {
      cached = null;
    },
  };
}

