// Mail whose text cannot be read without the recipient's key, or is inside a signature that is not
// unwrapped: the record then has no text, and the trace says why, so an admin does not take an
// empty issue for a parsing fault. Pure: the top-level Content-Type and the text in, a trace step out.

/** [decision, reason] for the trace, or null for mail whose text is readable. */
export function sealedMail(contentType: string | null, text: string | null): [string, string] | null {
  const [type = "", ...params] = (contentType ?? "").toLowerCase().split(";").map((p) => p.trim());
  if (type === "multipart/encrypted") return ["encrypted", "the message is encrypted (PGP/MIME, RFC 3156): its text cannot be read without the recipient's key; the raw message keeps it"];
  if (type === "application/pkcs7-mime" || type === "application/x-pkcs7-mime") {
    const smime = params.find((p) => p.startsWith("smime-type="))?.slice("smime-type=".length).replace(/^"|"$/g, "");
    // RFC 8551 §3.2.2: enveloped-data and authEnveloped-data are encrypted; signed-data (opaque
    // signing, §3.5.3) and compressed-data (RFC 3274) hold the message inside the structure.
    if (smime === "signed-data" || smime === "compressed-data") return ["s/mime " + smime, `the message is inside an S/MIME ${smime} structure (RFC 8551), which is not unwrapped: its text is not read; the raw message keeps it`];
    return ["encrypted", "the message is encrypted (S/MIME, RFC 8551): its text cannot be read without the recipient's key; the raw message keeps it"];
  }
  // Inline PGP (RFC 4880 §6.2 armor) in a text body: looked for at a line's start in the first 64 KiB.
  const head = (text ?? "").slice(0, 64 * 1024);
  const at = head.indexOf("-----BEGIN PGP MESSAGE-----");
  if (at >= 0 && (at === 0 || head[at - 1] === "\n")) return ["encrypted", "the text is encrypted inline (PGP, RFC 4880): it cannot be read without the recipient's key; it is kept as it came"];
  return null;
}
