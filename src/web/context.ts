// What the console's routes share: the pipeline's dependencies, the security state, and the
// per-status counts. Counting a million rows by status costs ~50-90 ms, so it is done once (and again
// every few minutes, to catch changes the history does not show, e.g. deleted rows); in between the
// counts follow the status history: each page reads only the changes since the last one.
import type { Hono } from "hono";
import { stagedCounts, statusChangesSince } from "../store/queries/web-queries.js";
import type { Deps } from "../pipeline/deps.js";
import type { Security, WebEnv } from "./security.js";

export interface WebContext {
  deps: Deps;
  sec: Security;
  counts(): Promise<{ counts: Record<string, number>; at: Date }>;
  /** After an action changed statuses: the next page counts again. */
  invalidateCounts(): void;
  /** A one-time message for the session's next page (the outcome of a POST, after its redirect). */
  flash(sessionId: string, message?: string): string | undefined;
  /** How many rows a list page shows. */
  pageSize: number;
}

export type App = Hono<WebEnv>;

/** More changes than this since the last page: count again instead. */
const MAX_CHANGES = 20_000;

export function makeContext(deps: Deps, sec: Security, opts: { countsMaxAgeMs?: number; pageSize?: number } = {}): WebContext {
  const maxAge = opts.countsMaxAgeMs ?? 5 * 60_000;
  let cached: { counts: Record<string, number>; historyId: number; full: number; at: Date } | null = null;
  // Kept here, not in the URL: a message in a link would let anyone put words on the console's page.
  const flashes = new Map<string, string>();
  return {
    deps,
    sec,
    pageSize: opts.pageSize ?? 50,
    async counts() {
      const now = deps.now();
      const c = cached;
      if (c && now.getTime() - c.full <= maxAge) {
        const changes = await statusChangesSince(deps.db, c.historyId, MAX_CHANGES + 1);
        // Pages are served concurrently: another may have applied some of these meanwhile (only
        // newer ones count), or an action dropped the counts (then they are counted again).
        if (changes.length <= MAX_CHANGES && cached === c) {
          for (const ch of changes) {
            if (ch.id <= c.historyId) continue;
            if (ch.previous !== null) c.counts[ch.previous] = (c.counts[ch.previous] ?? 0) - 1;
            c.counts[ch.status] = (c.counts[ch.status] ?? 0) + 1;
            c.historyId = ch.id;
          }
          c.at = now;
          return c;
        }
      }
      cached = { ...(await stagedCounts(deps.db)), full: now.getTime(), at: now };
      return cached;
    },
    invalidateCounts() {
      cached = null;
    },
    flash(sessionId, message) {
      if (message !== undefined) {
        if (flashes.size > 10_000) flashes.clear();
        flashes.set(sessionId, message);
        return message;
      }
      const m = flashes.get(sessionId);
      flashes.delete(sessionId);
      return m;
    },
  };
}

