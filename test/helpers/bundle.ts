// What a built bundle (dist/bundle/NAME.cjs) is made of: the files its source map lists, from the
// project's root ("src/cli/main.ts", "node_modules/mailparser/…"). The minified bundles carry no
// comment naming their files; the source map names every one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./cli.js";

export function bundledSources(name: string): string[] {
  const map = JSON.parse(readFileSync(join(root, "dist", "bundle", `${name}.cjs.map`), "utf8")) as { sources: string[] };
  return map.sources.map((s) => s.replace(/^(\.\.\/)+/, ""));
}
