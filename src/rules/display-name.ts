// ACS: "if you can regexp them out, first_names and last_name filled in".
export interface PersonName {
  firstNames: string | null;
  lastName: string | null;
}

export function splitDisplayName(display: string | null | undefined, email: string): PersonName {
  const name = (display ?? "").replace(/["']/g, "").replace(/\s+/g, " ").trim();
  if (!name || name.toLowerCase() === email.toLowerCase() || name.includes("@")) return { firstNames: null, lastName: null };
  const comma = /^([^,]+),\s*(.+)$/.exec(name); // "Last, First"
  if (comma) return { firstNames: comma[2], lastName: comma[1] };
  const words = name.split(" ");
  if (words.length === 1) return { firstNames: words[0], lastName: null };
  return { firstNames: words.slice(0, -1).join(" "), lastName: words[words.length - 1] };
}
