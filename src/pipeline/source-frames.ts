// The MTA's bundle is minified (scripts/bundle.mjs: a cold start reads fewer bytes), so a stack
// frame in it reads "at Xe (…/dist/bundle/ingest-mail.cjs:2:48213)". A record's error text keeps
// its first frame (domain.md §1.5), for whoever fixes the cause: such a frame is given as the
// TypeScript source and line it came from, read from the bundle's source map (NAME.cjs.map), and
// left as it is when there is no map. Only a failing mail pays for reading the map (~50 ms).
// An error's message may carry text from the mail: only V8's frame lines are read, only a location
// in the folder of this very bundle is looked up, and nothing here is more than linear in the text.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder of the running bundle (dist/bundle/); elsewhere (tsc's output, tests) no frame is a
 * bundle's. Found on the first failing mail, not at every start. */
let bundleDir: string | undefined;
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m === undefined) {
    try {
      m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      m = null;
    }
    maps.set(file, m);
  }
  return m;
}

/** One line of a stack: a frame in one of our bundles as `src/…ts:line:column`; any other line as it is. */
export function sourceFrame(line: string): string {
  if (!line.startsWith("    at ")) return line;
  const closed = line.endsWith(")");
  const from = closed ? line.lastIndexOf("(") + 1 : "    at ".length;
  const location = line.slice(from, closed ? -1 : undefined);
  const col = location.lastIndexOf(":");
  const row = location.lastIndexOf(":", col - 1);
  const file = location.slice(0, row);
  // A frame of a file in the bundle's own folder, not one a crafted line reaches with "..".
  bundleDir ??= `${dirname(fileURLToPath(import.meta.url))}${sep}`;
  if (row < 0 || `${dirname(file)}${sep}` !== bundleDir || !file.endsWith(".cjs")) return line;
  const entry = mapOf(file)?.findEntry(Number(location.slice(row + 1, col)) - 1, Number(location.slice(col + 1)) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) return line;
  // esbuild names sources relative to the map ("../../src/pipeline/ingest.ts"): from the project's root.
  const source = entry.originalSource.replace(/^(\.\.\/)+/, "");
  // The function's name is the minifier's ("Nm"): only bundles that are minified have a map, and a
  // map tells where code was, not what its function was called. So the frame is the place alone.
  return `    at ${line.startsWith("    at async ") ? "async " : ""}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}
