// src/pipeline/source-frames.ts: only V8's frame lines that point into the running bundle's own
// folder are looked up (the mapping itself: test/core.test.ts, through the built binary). Here,
// outside a bundle, every line is left as it is, whatever it claims.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { sourceFrame } from "../../src/pipeline/source-frames.js";
import { root } from "../helpers/cli.js";

describe("sourceFrame leaves alone what is not a frame of our bundle", () => {
  it.each([
    ["the message line", "Error: bad header in /work/dist/bundle/ingest-mail.cjs:2:10"],
    ["a frame in a file that is not a bundle", "    at parse (/usr/lib/node_modules/x/index.js:12:3)"],
    ["a frame in another folder's .cjs", "    at f (/etc/evil.cjs:1:1)"],
    ["a relative path", "    at f (../../dist/bundle/ingest-mail.cjs:1:1)"],
    ["a frame without a position", "    at new Promise (<anonymous>)"],
    ["a frame line of 1 MB with colons and no bundle", `    at ${":".repeat(1 << 20)}`],
  ])("%s", (_what, line) => {
    expect(sourceFrame(line)).toBe(line);
  });
});

it("does not read a source map outside the bundle's folder, however the frame names it", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-frames-"));
  try {
    // A valid map: line 1, column 1 of x.cjs comes from secret.ts line 1.
    writeFileSync(join(dir, "x.cjs.map"), JSON.stringify({ version: 3, sources: ["secret.ts"], names: [], mappings: "AAAA" }));
    const line = `    at f (${join(dir, "x.cjs")}:1:1)`;
    expect(sourceFrame(line)).toBe(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("does not follow \"..\" out of the bundle's folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-frames-"));
  try {
    writeFileSync(join(dir, "x.cjs.map"), JSON.stringify({ version: 3, sources: ["secret.ts"], names: [], mappings: "AAAA" }));
    // Outside a bundle the module's own folder stands in for dist/bundle/: a path that starts there
    // and climbs out with "..".
    const here = join(root, "src", "pipeline");
    const line = `    at f (${here}/${relative(here, join(dir, "x.cjs"))}:1:1)`;
    expect(line).toContain("/../");
    expect(sourceFrame(line)).toBe(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
