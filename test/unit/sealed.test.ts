// Mail whose text cannot be read (src/pipeline/sealed.ts): the trace says why its record has none.
import { describe, expect, it } from "vitest";
import { sealedMail } from "../../src/pipeline/sealed.js";

describe("sealedMail", () => {
  it.each<[string, string | null, string | null, string | null]>([
    ["PGP/MIME (RFC 3156)", 'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"', null, "encrypted"],
    ["S/MIME enveloped-data", 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"', null, "encrypted"],
    ["S/MIME with the old x- type and a folded, quoted parameter", 'application/x-pkcs7-mime;\r\n\tsmime-type="enveloped-data"', null, "encrypted"],
    ["S/MIME authEnveloped-data (RFC 8551)", "application/pkcs7-mime; smime-type=authenveloped-data", null, "encrypted"],
    ["S/MIME opaque signing: the text inside the signature", "application/pkcs7-mime; smime-type=signed-data", null, "s/mime signed-data"],
    ["S/MIME compressed-data (RFC 3274)", "application/pkcs7-mime; smime-type=compressed-data", null, "s/mime compressed-data"],
    ["inline PGP at the start of the text", "text/plain", "-----BEGIN PGP MESSAGE-----\n\nhQEMA...\n-----END PGP MESSAGE-----\n", "encrypted"],
    ["inline PGP after a line of its own", "text/plain", "Hi,\n-----BEGIN PGP MESSAGE-----\nhQEMA\n", "encrypted"],
    ["clear-signed mail (multipart/signed) is readable", 'multipart/signed; protocol="application/pkcs7-signature"', "Hello", null],
    ["a customer quoting the armor line inside a sentence", "text/plain", "Why does it say -----BEGIN PGP MESSAGE----- here?", null],
    ["a signed PGP message (its text is readable)", "text/plain", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n", null],
    ["plain mail", "text/plain; charset=utf-8", "Hello", null],
    ["no Content-Type", null, "Hello", null],
  ])("%s", (_what, contentType, text, decision) => {
    expect(sealedMail(contentType, text)?.[0] ?? null).toBe(decision);
  });
});
