import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { isMaildir, maildirFiles } from "../../src/sources/maildir.js";

function maildir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "maildir-test-"));
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, sub));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("Maildir reader", () => {
  it("takes cur/ and new/, skips tmp/ and dot files, oldest delivery first", () => {
    const dir = maildir({
      "new/1700000300.M3P1.host": "c",
      "cur/1700000100.M1P1.host:2,S": "a",
      "cur/999999999.M0P1.host:2,": "0", // fewer digits, still older
      "new/1700000200.M2P1.host": "b",
      "tmp/1700000050.M9P1.host": "partial",
      "cur/.hidden": "x",
    });
    expect(maildirFiles(dir).map((f) => relative(dir, f))).toEqual(["cur/999999999.M0P1.host:2,", "cur/1700000100.M1P1.host:2,S", "new/1700000200.M2P1.host", "new/1700000300.M3P1.host"]);
  });

  it.each([
    [["cur", "new", "tmp"], true],
    [["cur", "new"], true],
    [["cur"], false],
    [[], false],
  ])("with %j it is a Maildir: %s", (subs, want) => {
    const dir = mkdtempSync(join(tmpdir(), "maildir-test-"));
    for (const s of subs) mkdirSync(join(dir, s));
    expect(isMaildir(dir)).toBe(want);
  });
});
