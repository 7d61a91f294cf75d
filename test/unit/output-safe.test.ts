// Issue 14 point 4: mail text printed for people goes through terminalSafe (src/cli/output.ts), and the
// time arguments of the lists and purge (src/cli/time-args.ts).
import { describe, expect, it } from "vitest";
import { terminalSafe } from "../../src/cli/output.js";
import { ageMs, pointInTime } from "../../src/cli/time-args.js";

describe("terminalSafe", () => {
  it.each([
    ["plain text", "plain text", "plain text"],
    ["\u001b[2J\u001b]0;pwned\u0007", "\\x1b[2J\\x1b]0;pwned\\x07", "\\x1b[2J\\x1b]0;pwned\\x07"],
    ["a\r\nb\tc", "a b c", "a\nb    c"],
    ["bell\u0007 del\u007f c1\u009b", "bell\\x07 del\\x7f c1\\x9b", "bell\\x07 del\\x7f c1\\x9b"],
    ["bidi \u202eevil\u202c \u2066x\u2069", "bidi \\u202eevil\\u202c \\u2066x\\u2069", "bidi \\u202eevil\\u202c \\u2066x\\u2069"],
    ["Zoë 日本 🙂", "Zoë 日本 🙂", "Zoë 日本 🙂"],
  ])("%j", (input, oneLine, multiline) => {
    expect(terminalSafe(input)).toBe(oneLine);
    expect(terminalSafe(input, { multiline: true })).toBe(multiline);
  });

  it("null and empty are empty", () => {
    expect(terminalSafe(null)).toBe("");
    expect(terminalSafe(undefined, { multiline: true })).toBe("");
  });
});

describe("ages and points in time", () => {
  const now = new Date("2026-06-30T12:00:00.000Z");
  it.each([
    ["180d", 180 * 86_400_000],
    ["12h", 12 * 3_600_000],
    ["30m", 30 * 60_000],
    ["2w", 14 * 86_400_000],
    ["10", null],
    ["-5d", null],
    ["5y", null],
    ["d", null],
  ])("ageMs(%j) = %s", (text, ms) => {
    expect(ageMs(text)).toBe(ms);
  });

  it.each([
    ["7d", "2026-06-23T12:00:00.000Z"],
    ["2026-01-31", "2026-01-31T00:00:00.000Z"],
    ["2026-01-31T08:00:00Z", "2026-01-31T08:00:00.000Z"],
    ["2026-01-31T08:00:00+02:00", "2026-01-31T06:00:00.000Z"],
    ["2026-01-31T08:00:00-0530", "2026-01-31T13:30:00.000Z"],
    ["2026-01-31T08:00:00.25Z", "2026-01-31T08:00:00.250Z"],
    // No zone: UTC, as every time printed is, whatever TZ the admin's shell has (Date.parse took local time).
    ["2026-12-08 02:48:55", "2026-12-08T02:48:55.000Z"],
    ["2026-12-08T02:48", "2026-12-08T02:48:00.000Z"],
    ["yesterday", null],
    ["2026-13-45", null],
    // Dates the calendar lacks are refused, not rolled over into the next month or day.
    ["2026-02-30", null],
    ["2025-02-29", null],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2026-01-31T24:00", null],
    ["2026-01-31T08:60", null],
    ["2026-01-31T08:00:00+25:00", null],
  ])("pointInTime(%j) = %s", (text, iso) => {
    expect(pointInTime(text, now)).toBe(iso);
  });
});
