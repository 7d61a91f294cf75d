// Colour for people, none for pipes or NO_COLOR (https://no-color.org).
import { Chalk, type ChalkInstance } from "chalk";
import { safe } from "../terminal-safe.js";

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

// Mail text printed for people goes through issue 10's escaper (terminal-safe.ts: controls, DEL,
// bidi overrides shown as \xNN / \uNNNN, never obeyed). This adds the two shapes the lists and the
// conversation need: one line for a table cell (line breaks and tabs become spaces), or several
// lines kept as lines (tabs become spaces, every other control is escaped).
/** Text from mail made safe to print on one line, or as `multiline` text. */
export function terminalSafe(text: string | null | undefined, opts: { multiline?: boolean } = {}): string {
  if (!text) return "";
  if (opts.multiline) return text.replace(/\r\n?/g, "\n").split("\n").map((line) => safe(line.replace(/\t/g, "    "))).join("\n");
  return safe(text.replace(/[\r\n\t]+/g, " "));
}
