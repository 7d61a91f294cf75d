// A header block (as staged) read back into name → values, unfolded (RFC 5322 §2.2.3).
export type HeaderMap = Map<string, string[]>;

export function parseHeaderBlock(block: string): HeaderMap {
  const map: HeaderMap = new Map();
  // Bare CR ends a line too: RFC 5322 forbids it inside a header, and old Mac mail uses it as the newline.
  const unfolded = block.replace(/(\r\n|\r|\n)[ \t]+/g, " ");
  for (const line of unfolded.split(/\r\n|\r|\n/)) {
    const colon = line.indexOf(":");
    if (colon < 1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const list = map.get(name);
    if (list) list.push(value);
    else map.set(name, [value]);
  }
  return map;
}

export function first(h: HeaderMap, name: string): string | null {
  return h.get(name)?.[0] ?? null;
}
