// S/MIME opaque signing (src/pipeline/smime-signed.ts): the signed message taken out of CMS
// SignedData, DER or BER, and nothing taken from anything else.
import { describe, expect, it } from "vitest";
import { signedContent } from "../../src/pipeline/smime-signed.js";
import { readFixture } from "../helpers/cli.js";
import { DATA, ENVELOPED_DATA, indefinite, oid, SIGNED_DATA, signedData, tlv } from "../helpers/cms.js";

const message = "Content-Type: text/plain; charset=utf-8\r\n\r\nDie Lieferung ist unvollständig.\r\n";

describe("signedContent", () => {
  it("DER: the OCTET STRING's bytes", () => {
    expect(signedContent(signedData(SIGNED_DATA, tlv(0x04, Buffer.from(message))))?.toString()).toBe(message);
  });

  it("BER as Outlook writes it: indefinite lengths, the content in chunks", () => {
    const chunks = [message.slice(0, 20), message.slice(20)].map((c) => tlv(0x04, Buffer.from(c)));
    const ber = indefinite(0x30, SIGNED_DATA, indefinite(0xa0, indefinite(0x30, tlv(0x02, Buffer.from([1])), tlv(0x31), indefinite(0x30, DATA, indefinite(0xa0, indefinite(0x24, ...chunks))), tlv(0x31))));
    expect(signedContent(ber)?.toString()).toBe(message);
  });

  it("the fixture, written by OpenSSL's cms -sign -stream", () => {
    const text = readFixture("smime-opaque-signed-text-and-attachment-unwrapped.eml").toString("latin1");
    const content = signedContent(Buffer.from(text.split("\n\n")[1], "base64"));
    expect(content?.toString("utf8")).toMatch(/^Content-Type: multipart\/mixed; boundary="inner"\r\n\r\n--inner\r\n[^]*die Lieferung 2026-0417 ist unvollständig/);
  });

  it.each<[string, Buffer]>([
    ["enveloped-data (encrypted)", signedData(ENVELOPED_DATA, tlv(0x04, Buffer.from(message)))],
    ["signed content that is not id-data", signedData(SIGNED_DATA, tlv(0x04, Buffer.from(message)), oid("2a864886f70d0109100104"))],
    ["a cut structure", signedData(SIGNED_DATA, tlv(0x04, Buffer.from(message))).subarray(0, 40)],
    ["no structure at all", Buffer.from("MIME-Version: 1.0\r\n")],
    ["nothing", Buffer.alloc(0)],
    ["groups nested 200 deep", Buffer.concat([Buffer.from("3080".repeat(200), "hex"), Buffer.alloc(400)])],
    ["30,000 chunks (more nodes than a signed message of 16 MiB in 1,000-byte chunks has)", indefinite(0x30, SIGNED_DATA, indefinite(0xa0, indefinite(0x30, tlv(0x02, Buffer.from([1])), tlv(0x31), indefinite(0x30, DATA, indefinite(0xa0, indefinite(0x24, ...Array.from({ length: 30_000 }, () => tlv(0x04, Buffer.from("x"))))))), tlv(0x31)))],
  ])("not read: %s", (_what, bytes) => {
    expect(signedContent(bytes)).toBeNull();
  });
});
