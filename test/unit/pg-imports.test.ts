// Issue 11.9 (cold start): pg is loaded only for a postgres:// URL. Only store/postgres/ imports the
// driver, and the engine is reached only by store/open.ts's dynamic import.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe("who loads pg", () => {
  const files = sources("src").map((f) => ({ f, text: readFileSync(f, "utf8") }));

  it("only store/postgres/ imports the driver", () => {
    const importers = files.filter(({ text }) => /(from\s+|import\(\s*|require\(\s*)["']pg["']/.test(text)).map(({ f }) => f);
    expect(importers).toContain(join("src", "store", "postgres", "driver.ts"));
    expect(importers.filter((f) => !f.startsWith(join("src", "store", "postgres")))).toEqual([]);
  });

  it("outside store/postgres/, the engine is only imported dynamically", () => {
    const statically = files.filter(({ f, text }) => !f.startsWith(join("src", "store", "postgres")) && /^import\s(?!type\b)[^;]*from\s+["'][./]*(store\/)?postgres\/[^"']+["']/m.test(text));
    expect(statically.map(({ f }) => f)).toEqual([]);
  });
});
