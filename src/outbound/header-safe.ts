// Issue 10: text from a mail that goes into one of our outbound headers (the confirmation's Subject)
// loses its control characters (C0, DEL, C1: a NUL or CR must not reach a header) and bidi controls,
// and is cut to a bounded length.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

export const MAX_SUBJECT = 200;

export function headerText(value: string, max = MAX_SUBJECT): string {
  const clean = value.replace(CONTROLS, " ").replace(/\s+/g, " ").trim();
  // Cut on a code point, never inside a surrogate pair.
  return [...clean].slice(0, max).join("").trimEnd();
}
