// Ages and times on the command line: `180d`, `12h`, `30m`, `2w` (an age before now) or an ISO
// date / date-time (`2026-01-31`, `2026-01-31T08:00:00Z`). Stored times are ISO strings in UTC, so
// the result is one too and compares as text.
import { InvalidArgumentError } from "commander";

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds of an age like `180d`, or null when the text is not an age. */
export function ageMs(text: string): number | null {
  const m = /^(\d{1,7})([mhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** The point in time an argument names: now minus an age, or an ISO date. */
export function pointInTime(text: string, now: Date): string | null {
  const age = ageMs(text);
  if (age !== null) return new Date(now.getTime() - age).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return null;
  const t = Date.parse(text.trim());
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** A commander parser: keeps the text, refuses what is neither an age nor a date. */
export const timeArg = (flag: string) => (v: string) => {
  if (pointInTime(v, new Date()) === null) throw new InvalidArgumentError(`${flag} takes an age (180d, 12h, 30m, 2w) or a date (2026-01-31), got "${v}"`);
  return v;
};

/** A commander parser for an age only (purge --older-than). */
export const ageArg = (flag: string) => (v: string) => {
  if (ageMs(v) === null) throw new InvalidArgumentError(`${flag} takes an age such as 180d, 12h, 30m or 2w, got "${v}"`);
  return v;
};
