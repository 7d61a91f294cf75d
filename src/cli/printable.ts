// Mail text on a terminal (style: nothing from mail reaches a terminal unescaped): control
// characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides that reorder what a
// reader sees (CVE-2021-42574, "Trojan Source") are shown as \u{…} instead of acting.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
