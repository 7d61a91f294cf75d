// A spooled message read back as a stream (read-raw.ts rawStream) gives every byte to a consumer
// that attaches late. parseMail awaits the MIME parser's loading before it pipes the stream; a
// stream that began to flow when it was made lost what was read meanwhile, and a 1.5 MB corpus
// mail (zammad mail082) was then parsed as an empty message or failed ("Max header size"), about
// one time in five under vitest, where that await takes longer.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseMail } from "../../src/pipeline/parse.js";
import { rawStream } from "../../src/pipeline/read-raw.js";

const later = () => new Promise((r) => setTimeout(r, 100));

function spooled(): { path: string; bytes: Buffer; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-raw-stream-"));
  const body = Array.from({ length: 30_000 }, (_, i) => `line ${i} of a long message body, to span several reads\n`).join("");
  const bytes = Buffer.from(`From: Ann <ann@customer.test>\nTo: support@example.test\nSubject: Spooled\nMessage-ID: <spooled@customer.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n${body}\n--b--\n`);
  const path = join(dir, "mail.eml");
  writeFileSync(path, bytes);
  return { path, bytes, dir };
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("rawStream of a spooled message", () => {
  it.each([
    ["an iterator", (s: Readable) => s],
    ["a pipe", (s: Readable) => s.pipe(new PassThrough())],
  ])("gives all of it to %s that starts late", async (_, reader) => {
    const { path, bytes } = spooled();
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    const stream = rawStream({ buffer: null, path });
    await later();
    expect((await collect(reader(stream))).equals(bytes)).toBe(true);
  });

  it("parses whole when the parser comes late", async () => {
    const { path, dir } = spooled();
    const stream = rawStream({ buffer: null, path });
    await later();
    const parsed = await parseMail(stream, join(dir, "attachments"));
    expect(parsed.subject).toBe("Spooled");
    expect(parsed.from?.address).toBe("ann@customer.test");
    // The first line of the body, and (the text is capped at 1 MB, limits.maxTextBytes) a late one.
    expect(parsed.text).toMatch(/^line 0 of a long message body/);
    expect(parsed.text).toContain("line 15000 of a long message body");
  });
});
