// S/MIME opaque signing (RFC 8551 §3.5.3): the whole message, text and attachments, is inside a CMS
// SignedData structure (RFC 5652 §5) in one application/pkcs7-mime part, so a reader that does not
// unwrap it sees one smime.p7m file and no text. This takes the signed content out (asn1js reads
// the BER, indefinite lengths and chunked OCTET STRINGs included, as Outlook writes them); parse.ts
// parses it as the message's body. The signature is not checked: no trust rule rests on it.
import { fromBER } from "asn1js";

const SIGNED_DATA = "1.2.840.113549.1.7.2";
const DATA = "1.2.840.113549.1.7.1";

// asn1js's own bounds on hostile input (RFC 5652 structures nest about 10 deep; a signed message in
// chunks of 1,000 bytes, as some writers send it, is 16,000 nodes at 16 MiB; 20,000 crafted nodes
// cost asn1js about 0.1 s). parseEmbedded off: by default it tries every OCTET STRING's content as
// BER too, the signed message's included.
const READ = { maxDepth: 64, maxNodes: 20_000, maxContentLength: 16 * 1024 * 1024, parseEmbedded: false };

/** The signed content (a MIME entity: its header and body) of DER/BER SignedData, or null. */
export function signedContent(der: Buffer): Buffer | null {
  try {
    return eContentOf(der);
  } catch {
    return null; // damaged: the part stays as it came
  }
}

function eContentOf(der: Buffer): Buffer | null {
  const parsed = fromBER(new Uint8Array(der.buffer, der.byteOffset, der.length), READ);
  if (parsed.offset === -1) return null;
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
  const info = items(parsed.result as Asn);
  if (oid(info[0]) !== SIGNED_DATA) return null;
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, … }
  const signed = items(items(info[1])[0]);
  const encap = items(signed[2]);
  if (oid(encap[0]) !== DATA) return null;
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING }
  const eContent = items(encap[1])[0];
  return isUniversal(eContent, OCTET_STRING) ? octets(eContent!) : null;
}

/** What is read of an asn1js value (by its tags, not its class: the bundle loads asn1js apart). */
interface Asn {
  idBlock?: { tagClass?: number; tagNumber?: number };
  valueBlock?: { value?: unknown; isConstructed?: boolean; valueHexView?: Uint8Array; toString?: () => string };
}

const OBJECT_IDENTIFIER = 6;
const OCTET_STRING = 4;
const isUniversal = (v: Asn | undefined, tag: number) => v?.idBlock?.tagClass === 1 && v.idBlock.tagNumber === tag;

/** The elements of a constructed value (a SEQUENCE, SET or explicit tag), or none. */
function items(v: Asn | undefined): Asn[] {
  const value = v?.valueBlock?.value;
  return Array.isArray(value) ? (value as Asn[]) : [];
}

function oid(v: Asn | undefined): string | null {
  return isUniversal(v, OBJECT_IDENTIFIER) ? String(v!.valueBlock?.toString?.() ?? "") : null;
}

/** An OCTET STRING's bytes (a view of the input, not a copy); a constructed one (BER, in chunks) joined. */
function octets(v: Asn): Buffer {
  const view = v.valueBlock?.valueHexView;
  if (!v.valueBlock?.isConstructed) return view ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : Buffer.alloc(0);
  return Buffer.concat(items(v).filter((part) => isUniversal(part, OCTET_STRING)).map(octets));
}
