// Colour for people, none for pipes or NO_COLOR (https://no-color.org).
import { Chalk, type ChalkInstance } from "chalk";

export function colours(): ChalkInstance {
  const off = (process.env.NO_COLOR ?? "") !== "" || !process.stdout.isTTY;
  return new Chalk(off ? { level: 0 } : {});
}

/** A plain text table: columns padded to the widest cell (cells may carry colour codes). */
export function table(header: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i] - visible(c)))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

// Mail text is hostile (common brief: nothing from mail reaches a terminal unescaped): C0 and C1
// controls, DEL and the bidirectional overrides (Trojan Source, CVE-2021-42574) are shown as \xNN /
// \u{NNNN} instead of being obeyed by the terminal. Line breaks and tabs are kept in `multiline`
// text; in a one-line cell they become spaces.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (ch: string) => {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
};

/** Text from mail made safe to print: every control character visible, never obeyed. */
export function terminalSafe(text: string | null | undefined, opts: { multiline?: boolean } = {}): string {
  if (!text) return "";
  if (opts.multiline) return text.replace(/\r\n?/g, "\n").replace(UNSAFE, escapeChar);
  return text.replace(/[\r\n\t]+/g, " ").replace(UNSAFE_ONE_LINE, escapeChar);
}
