// Issue 10: text from mail printed for people (list, show, issue show/list, outbox list) must not
// drive the terminal: C0 and C1 controls, ESC (ANSI/OSC sequences), DEL and the bidi overrides that
// reorder what is shown (Trojan Source, CVE-2021-42574) are printed as visible escapes (\x1b,
// \u202e). JSON output is left as it is: JSON.stringify already escapes C0 controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (ch: string) => {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** The text with every control and bidi character shown as an escape; null/undefined → "". */
export function safe(value: unknown): string {
  if (value === null || value === undefined) return "";
  return String(value).replace(UNSAFE, escapeOne);
}
