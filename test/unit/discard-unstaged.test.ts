// Never lose a mail: a delivery whose staging failed gives back its temporary file, but never a spool
// file named by its content, which another delivery of the same bytes may have staged a record on.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { discardUnstaged } from "../../src/pipeline/stage.js";

const dir = mkdtempSync(join(tmpdir(), "ingest-mail-spool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("discardUnstaged", () => {
  it("a content-named spool file stays: a second delivery of the same bytes renamed its copy onto it and staged on it", () => {
    const name = join(dir, `${"ab".repeat(32)}.eml`);
    // Delivery A writes the file first (existed: false) ...
    writeFileSync(join(dir, ".tmp-a"), "the same large mail");
    renameSync(join(dir, ".tmp-a"), name);
    // ... delivery B of the same bytes renames its own copy onto the name (existed: true) and stages a record on it ...
    writeFileSync(join(dir, ".tmp-b"), "the same large mail");
    renameSync(join(dir, ".tmp-b"), name);
    // ... then A's staging fails: removing "its" file would remove the bytes B's acknowledged record points to.
    discardUnstaged({ path: name, existed: false });
    expect(readFileSync(name, "utf8")).toBe("the same large mail");
  });

  it("a temporary file goes", () => {
    const tmp = join(dir, ".tmp-123-abc-1");
    writeFileSync(tmp, "x");
    discardUnstaged({ path: tmp, existed: false });
    expect(existsSync(tmp)).toBe(false);
  });
});
