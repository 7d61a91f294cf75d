// The daemon's log: one line per session, per delivery and per processed record, on stderr (the
// journal under systemd). Envelope addresses and error texts come from outside: control and
// direction-changing characters are escaped so a line cannot be forged or split.
export type LogLine = (line: string) => void;

// C0, DEL, C1, and the bidirectional overrides/isolates (Trojan Source).
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MAX = 300;

export function safe(text: string): string {
  const t = text.length > MAX ? `${text.slice(0, MAX)}…` : text;
  return t.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Lines go out together once per turn of the event loop (a write per line cost 0.1 ms of every
 * mail under load: bench), and at once on exit. */
export function stderrLog(part = ""): LogLine {
  let pending: string[] = [];
  const flush = () => {
    if (!pending.length) return;
    const text = pending.join("");
    pending = [];
    try {
      process.stderr.write(text);
    } catch {
      // A closed stderr must not take the daemon down.
    }
  };
  process.once("exit", flush);
  const prefix = `ingest-mail serve[${process.pid}]${part ? ` ${part}` : ""}: `;
  return (line) => {
    if (!pending.length) setImmediate(flush);
    pending.push(`${prefix}${line}\n`);
  };
}
