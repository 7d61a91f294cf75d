// The schema version this program writes: the number of generated migrations, which open.ts also
// stores in PRAGMA user_version once they are applied (`--version`, `doctor`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./open.js";

export function schemaVersion(): number {
  const journal = JSON.parse(readFileSync(join(packageRoot, "drizzle", "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
  return journal.entries.length;
}
