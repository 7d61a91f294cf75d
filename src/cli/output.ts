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
