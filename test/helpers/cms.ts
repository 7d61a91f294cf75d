// CMS (RFC 5652) structures built by hand for tests: DER values and BER ones of indefinite length.

/** One DER value: tag, definite length, content. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

/** One BER value of indefinite length, ended by end-of-contents. */
export const indefinite = (tag: number, ...content: Buffer[]) => Buffer.concat([Buffer.from([tag, 0x80]), ...content, Buffer.from([0, 0])]);

export const oid = (hex: string) => tlv(0x06, Buffer.from(hex, "hex"));
export const SIGNED_DATA = oid("2a864886f70d010702");
export const ENVELOPED_DATA = oid("2a864886f70d010703");
export const DATA = oid("2a864886f70d010701");

/** ContentInfo { type, [0] SignedData { version, digestAlgorithms, encapContentInfo { encapType, [0] eContent }, signerInfos } }. */
export const signedData = (type: Buffer, eContent: Buffer, encapType = DATA) =>
  tlv(0x30, type, tlv(0xa0, tlv(0x30, tlv(0x02, Buffer.from([1])), tlv(0x31), tlv(0x30, encapType, tlv(0xa0, eContent)), tlv(0x31))));

/** A message whose whole content is `entity` (a MIME part: header and body) signed opaquely, as S/MIME sends it (RFC 8551 §3.5.3). */
export function opaqueSigned(headers: string, entity: Buffer): Buffer {
  const der = signedData(SIGNED_DATA, tlv(0x04, entity)).toString("base64").replace(/.{76}/g, "$&\n");
  return Buffer.from(`${headers}\nMIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n${der}\n`, "latin1");
}
