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

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The point in time an argument names: now minus an age, or an ISO date. A date or date-time with
 * no zone is UTC, as every time ingest-mail prints is (Date.parse read a date-time as local time
 * and a date as UTC, so one TZ gave another set of mail). A date the calendar lacks (2026-02-30)
 * is refused, not rolled into March.
 */
export function pointInTime(text: string, now: Date): string | null {
  const age = ageMs(text);
  if (age !== null) return new Date(now.getTime() - age).toISOString();
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(Number(m[7] ?? 0) * 1000));
  const back = new Date(utc);
  // The fields as given, unchanged by Date's rolling over (30 February, 24:00, 60 seconds).
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || back.getUTCHours() !== hour || back.getUTCMinutes() !== minute || back.getUTCSeconds() !== second) return null;
  const zone = m[8]?.toUpperCase() ?? "Z";
  const offset = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  if (Math.abs(offset) > 18 * 60) return null;
  return new Date(utc - offset * 60_000).toISOString();
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
