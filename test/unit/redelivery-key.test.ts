// Issue 9.5: a redelivery is the same bytes for the same envelope recipient, the MTA's trace fields
// (Received, Return-Path, Delivered-To, X-Original-To) aside; read in one pass, in any chunking.
import { describe, expect, it } from "vitest";
import { RedeliveryHasher, redeliveryKey } from "../../src/pipeline/redelivery-key.js";

function key(message: string, recipient: string | null = "service@example.com", chunk = 0): string {
  const h = new RedeliveryHasher();
  const bytes = Buffer.from(message);
  if (!chunk) h.update(bytes);
  else for (let i = 0; i < bytes.length; i += chunk) h.update(bytes.subarray(i, i + chunk));
  return redeliveryKey(h.digest(), recipient);
}

const plain = "From: ann@example.com\nSubject: Hello\nMessage-ID: <a@x>\n\nBody text\nReceived: in the body counts\n";
const traced = `Received: from mx2.example.net (mx2 [192.0.2.1])\n\tby mx1.example.com; Sat, 5 Dec 2026 10:00:00 +0000\nReturn-Path: <ann@example.com>\nDelivered-To: service@example.com\nX-Original-To: service@example.com\n${plain}`;

describe("redelivery key", () => {
  it.each([
    ["trace fields prepended by the MTA", traced, "service@example.com", true],
    ["trace fields between other fields", plain.replace("Subject:", "Received: by relay\n  folded line\nSubject:"), "service@example.com", true],
    ["upper-case recipient", plain, "SERVICE@example.com", true],
    ["another recipient", plain, "billing@example.com", false],
    ["no recipient", plain, null, false],
    ["one body byte changed", plain.replace("Body text", "Body texT"), "service@example.com", false],
    ["a changed subject", plain.replace("Hello", "Hallo"), "service@example.com", false],
    ["an extra non-trace field", `X-Spam-Score: 3\n${plain}`, "service@example.com", false],
    ["a trace field name inside the body", plain.replace("Body text", "Return-Path: <x>"), "service@example.com", false],
  ])("%s: same key %s", (_name, other, recipient, same) => {
    expect(key(other, recipient) === key(plain)).toBe(same);
  });

  it.each([1, 2, 3, 7, 64])("reads the same in chunks of %i bytes, CRLF or LF", (n) => {
    expect(key(traced, "service@example.com", n)).toBe(key(plain));
    // IMAP and LMTP hand over CRLF what a local delivery wrote with LF: the same message.
    expect(key(traced.replace(/\n/g, "\r\n"), "service@example.com", n)).toBe(key(plain));
    // A lone CR is content, not a line ending.
    expect(key(plain.replace("Body text", "Body\rtext"), "service@example.com", n)).not.toBe(key(plain));
  });

  it("is linear: 20 MB of header field takes well under a second per MB", () => {
    const t0 = performance.now();
    key(`From: a${" ".repeat(20 * 1024 * 1024)}x\nSubject: s\n\nb`);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});
