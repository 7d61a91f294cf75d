// Issue 14: the options every admin list shares (--limit, --since, --from, --search), defined once
// for commander and turned into the query filter here.
import { Option, type Command } from "commander";
import type { ListFilter } from "../store/queries/list-queries.js";
import { UsageError } from "../errors.js";
import type { CommonOptions } from "./context.js";
import { pointInTime, timeArg } from "./time-args.js";

export interface ListOptions extends CommonOptions {
  limit: number;
  since?: string;
  from?: string;
  search?: string;
}

export const DEFAULT_LIMIT = 50;

/** Adds the shared list options; `fromHelp` and `searchHelp` say what each list matches. */
export function withListOptions(cmd: Command, int: (v: string) => number, fromHelp: string, searchHelp: string): Command {
  return cmd
    .addOption(new Option("--limit <n>", "at most this many rows").argParser(int).default(DEFAULT_LIMIT))
    .addOption(new Option("--since <when>", "only since an age (7d, 12h, 30m, 2w) or a date (2026-01-31)").argParser(timeArg("--since")))
    .option("--from <text>", fromHelp)
    .option("--search <text>", searchHelp);
}

export function listFilter(opts: ListOptions, now: Date): ListFilter {
  if (opts.limit < 1) throw new UsageError("--limit must be at least 1");
  return {
    limit: opts.limit,
    since: opts.since !== undefined ? (pointInTime(opts.since, now) ?? undefined) : undefined,
    from: opts.from?.trim() || undefined,
    search: opts.search || undefined,
  };
}

/** "N of M shown": the list never hides that it was cut. */
export const shownLine = (shown: number, total: number) => `${shown} of ${total} shown`;
