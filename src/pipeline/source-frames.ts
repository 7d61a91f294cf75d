// The MTA's bundle is minified (scripts/bundle.mjs: a cold start reads fewer bytes), so a stack
// frame in it reads "at Xe (…/dist/bundle/ingest-mail.cjs:2:48213)". A record's error text keeps
// its first frame (domain.md §1.5), for whoever fixes the cause: such a frame is given as the
// TypeScript source and line it came from, read from the bundle's source map (NAME.cjs.map), and
// left as it is when there is no map. Only a failing mail pays for reading the map (~50 ms).
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m === undefined) {
    try {
      m = existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")) as ConstructorParameters<typeof SourceMap>[0]) : null;
    } catch {
      m = null;
    }
    maps.set(file, m);
  }
  return m;
}

/** A frame's `file:line:column`, as its source's `path:line:column` where the file has a source map. */
export function sourceFrame(text: string): string {
  return text.replace(/([^\s()]+\.cjs):(\d+):(\d+)/g, (whole, file: string, line: string, column: string) => {
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
    if (!entry?.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) return whole;
    // esbuild names sources relative to the map ("../../src/pipeline/ingest.ts"): from the project's root.
    const source = entry.originalSource.replace(/^(\.\.\/)+/, "");
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
