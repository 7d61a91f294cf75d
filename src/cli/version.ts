// `--version`: the program's version (package.json) and the database schema version it writes
// (issue 14), e.g. "0.1.0 (schema 4)". The program version comes first, as scripts expect.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, programSchemaVersion as schemaVersion } from "../store/sqlite/open.js";

export function programVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
}

export const versionLine = (): string => `${programVersion()} (schema ${schemaVersion()})`;
