// winmail.dat read by src/pipeline/tnef.ts and by Debian's `tnef` tool (an independent reader of
// [MS-OXTNEF], maintained since 1997): the same files with the same bytes, and the same body. The
// streams are the fixtures' and test/helpers/tnef-writer.ts's, so the writer is checked too. .ci/run
// installs `tnef`; elsewhere this skips with a message when it is missing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { windows1252 } from "../src/pipeline/header-text.js";
import { readTnef } from "../src/pipeline/tnef.js";
import { readFixture } from "./helpers/cli.js";
import { writeTnef, type TnefSpec } from "./helpers/tnef-writer.js";

const hasTnef = spawnSync("sh", ["-c", "command -v tnef"]).status === 0;
if (!hasTnef) console.warn("[tnef] the `tnef` tool is not installed: the cross-check is skipped (apt-get install tnef to run it; .ci/run does)");

/** The winmail.dat part of a fixture (base64, the last part of the message). */
function winmailOf(name: string): Buffer {
  const text = readFixture(name).toString("latin1");
  const body = text.split(/filename="winmail\.dat"\r?\n\r?\n/)[1];
  return Buffer.from(body.split(/\n--/)[0], "base64");
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** What `tnef` makes of a stream: each file's name and hash, and the body it saves. */
function theirs(bytes: Buffer): { files: string[]; body: string | null } {
  const dir = mkdtempSync(join(tmpdir(), "tnef-"));
  try {
    const input = join(dir, "winmail.dat");
    writeFileSync(input, bytes);
    const out = join(dir, "out");
    mkdirSync(out);
    const r = spawnSync("tnef", ["--save-body=body", "-C", out, "-f", input], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const names = readdirSync(out).sort();
    const body = names.includes("body.txt") ? windows1252(readFileSync(join(out, "body.txt"))).replace(/\0+$/, "").trim() : null;
    return { files: names.filter((n) => n !== "body.txt").map((n) => `${n} ${sha(readFileSync(join(out, n)))}`), body };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** IID_IMessage: `tnef` saves an object (an attached mail is one) with its interface id in front ([MS-OXTNEF] 2.1.3.4: not the data). */
const IID_IMESSAGE = Buffer.from("0703020000000000c000000000000046", "hex");

function ours(bytes: Buffer): { files: string[]; body: string | null } {
  const r = readTnef(bytes)!;
  return { files: r.files.map((f) => `${f.name} ${sha(f.message ? Buffer.concat([IID_IMESSAGE, f.data]) : f.data)}`).sort(), body: r.text };
}

const pdf = Buffer.from("%PDF-1.4\n%%EOF\n");
const specs: [string, TnefSpec][] = [
  ["long Unicode names beside short ones", { files: [{ title: "RECHNU~1.PDF", longName: "Rechnung März.pdf", data: pdf }, { title: "PHOTO~1.JPG", longName: "Фото счёта.jpg", mimeTag: "image/jpeg", data: Buffer.alloc(3000, 0xd8) }] }],
  ["short names only, codepage 1252", { files: [{ title: "A.TXT", data: Buffer.from("a\n") }, { title: "EMPTY.TXT", data: Buffer.alloc(0) }] }],
  ["attribute ids with no type word", { noTypeWords: true, files: [{ title: "A.TXT", data: Buffer.from("a\n") }] }],
  ["named properties in every list", { namedProperty: true, files: [{ title: "N.TXT", longName: "named.txt", mimeTag: "text/plain", data: Buffer.from("n\n") }] }],
  ["a body and a file", { body: "Grüße aus Köln\r\nZeile zwei", files: [{ title: "B.BIN", data: Buffer.from([0, 1, 2, 255]) }] }],
  // `tnef` saves an attached mail as its object (the mail's own TNEF stream), which is what we read it from (parse.ts then writes it out as an .eml).
  ["an attached mail beside a file", { files: [{ title: "Order 4711", message: { subject: "Order 4711", senderSmtp: "a@b.example", mapiBody: "inner", files: [{ title: "IN.TXT", data: Buffer.from("in\n") }] } }, { title: "A.TXT", data: Buffer.from("a\n") }] }],
];

describe.skipIf(!hasTnef)("winmail.dat: our reading against Debian's tnef", () => {
  it.each(["outlook-winmail-dat-unpacked-into-its-files.eml", "winmail-dat-only-text-read-from-it.eml"])("the fixture %s", (name) => {
    const bytes = winmailOf(name);
    expect(ours(bytes).files.length).toBeGreaterThan(0);
    expect(ours(bytes)).toEqual(theirs(bytes));
  });

  it.each(specs)("%s", (_what, spec) => {
    const bytes = writeTnef(spec);
    expect(ours(bytes)).toEqual(theirs(bytes));
  });
});

