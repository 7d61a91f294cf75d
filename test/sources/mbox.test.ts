import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lines, parseMbox, readMbox } from "../../src/sources/mbox.js";

async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function messages(text: string | Buffer, chunk = 7): Promise<string[]> {
  const out: string[] = [];
  for await (const m of parseMbox(chunked(text, chunk))) out.push(m.raw.toString("latin1"));
  return out;
}

describe("mbox reader", () => {
  it.each([
    ["one message, From_ line and closing blank line dropped", "From a@x Mon Jan  1 00:00:00 2024\nSubject: a\n\nbody\n\n", ["Subject: a\n\nbody\n"]],
    ["two messages", "From a@x Mon Jan  1 00:00:00 2024\nSubject: a\n\nA\n\nFrom b@x Mon Jan  1 00:00:00 2024\nSubject: b\n\nB\n", ["Subject: a\n\nA\n", "Subject: b\n\nB\n"]],
    ["mboxrd: one > removed from >From and >>From", "From a@x Mon\nSubject: a\n\n>From here\n>>From there\n> From not escaped\n\n", ["Subject: a\n\nFrom here\n>From there\n> From not escaped\n"]],
    ["From inside a paragraph (no blank line before) does not split", "From a@x Mon\nSubject: a\n\nline\nFrom the body\n\n", ["Subject: a\n\nline\nFrom the body\n"]],
    ["CRLF kept, blank CRLF line is framing", "From a@x Mon\r\nSubject: a\r\n\r\nA\r\n\r\nFrom b@x Mon\r\nSubject: b\r\n\r\n>From B\r\n\r\n", ["Subject: a\r\n\r\nA\r\n", "Subject: b\r\n\r\nFrom B\r\n"]],
    ["no newline at the end of the file", "From a@x Mon\nSubject: a\n\nlast", ["Subject: a\n\nlast"]],
    ["blank lines before the first From_ are ignored", "\n\nFrom a@x Mon\nSubject: a\n\nA\n", ["Subject: a\n\nA\n"]],
    ["empty file", "", []],
  ])("%s", async (_name, text, want) => {
    expect(await messages(text)).toEqual(want);
    expect(await messages(text, 1)).toEqual(want); // every chunk boundary
    expect(await messages(text, 4096)).toEqual(want);
  });

  it("keeps 8-bit bytes as they are (never decoded)", async () => {
    const body = Buffer.from([0x53, 0x75, 0x62, 0x6a, 0x3a, 0x20, 0xe9, 0xff, 0x0a, 0x0a, 0x80, 0x0a]);
    const file = Buffer.concat([Buffer.from("From a@x Mon\n"), body, Buffer.from("\n")]);
    const out: Buffer[] = [];
    for await (const m of parseMbox(chunked(file, 3))) out.push(m.raw);
    expect(out).toEqual([body]);
  });

  it("refuses data that does not start with a From_ line", async () => {
    await expect(messages("Subject: not mbox\n\nbody\n")).rejects.toThrow(/not an mbox/);
  });

  it("numbers messages and counts the bytes each took", async () => {
    const text = "From a@x Mon\nSubject: a\n\nA\n\nFrom b@x Mon\nSubject: b\n\nB\n";
    const got = [];
    for await (const m of parseMbox(chunked(text, 5))) got.push({ index: m.index, bytes: m.bytes });
    expect(got).toEqual([
      { index: 1, bytes: "From a@x Mon\nSubject: a\n\nA\n\n".length },
      { index: 2, bytes: "From b@x Mon\nSubject: b\n\nB\n".length },
    ]);
  });

  it("reads a file from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mbox-test-"));
    const path = join(dir, "box.mbox");
    writeFileSync(path, "From a@x Mon\nSubject: a\n\nA\n\nFrom b@x Mon\nSubject: b\n\nB\n");
    const subjects = [];
    for await (const m of readMbox(path)) subjects.push(m.raw.toString().split("\n")[0]);
    expect(subjects).toEqual(["Subject: a", "Subject: b"]);
  });

  it("splits lines across chunks, keeping line endings", async () => {
    const out: string[] = [];
    for await (const l of lines(chunked("ab\r\ncd\nef", 1))) out.push(l.toString());
    expect(out).toEqual(["ab\r\n", "cd\n", "ef"]);
  });

  it("a line past maxLine is cut there (without its ending) and the next line is whole, across chunks", async () => {
    const out: string[] = [];
    for await (const l of lines(chunked(`${"x".repeat(100)}\nab\n`, 7), 10)) out.push(l.toString());
    expect(out).toEqual(["x".repeat(10), "ab\n"]);
  });

  // limits.maxMessageBytes: a message is kept to one byte past it (the import then keeps its headers
  // and the start of its body, as ingest does); the rest is read past, and the next message is whole.
  it("keeps a message to maxBytes + 1 bytes, counts all of it, and reads the next message whole", async () => {
    const big = `From a@x Mon Jan  1 00:00:00 2024\nSubject: big\n\n${"line of the big one\n".repeat(1000)}\n`;
    const small = "From b@x Mon Jan  1 00:00:00 2024\nSubject: small\n\nhello\n\n";
    const got: { raw: string; bytes: number }[] = [];
    for await (const m of parseMbox(chunked(big + small, 4096), 100)) got.push({ raw: m.raw.toString("latin1"), bytes: m.bytes });
    expect(got[0].raw).toHaveLength(101);
    expect(got[0].raw.startsWith("Subject: big\n\nline of the big one\n")).toBe(true);
    expect(got[0].bytes).toBe(Buffer.byteLength(big)); // framing included, as for any message
    expect(got[1].raw).toBe("Subject: small\n\nhello\n");
  });
});
