// domain.md §2: support addresses carry ids as service-UID-ISSUE@ (ACS) or service+UID-ISSUE@ (plus
// addressing). The addresses we hand out carry a short HMAC too (service+UID-ISSUE-SIG@); when ids
// count is decided in address-trust.ts (issue 10: signed from anyone, unsigned only from participants).
import { createHmac, timingSafeEqual } from "node:crypto";

export interface AddressIds {
  base: string; // the support address without ids, lower-case
  uid: number;
  issueId: number;
  signature: string | null;
}

export type AddressIdsResult = { ids: AddressIds; verified: true } | { ids: AddressIds | null; verified: false; reason: string | null };

const ID_FORM = /^(.+?)[+-](\d{1,12})-(\d{1,12})(?:-([0-9a-f]{6,64}))?$/i;

export function signIds(secret: string, uid: number, issueId: number): string {
  return createHmac("sha256", secret).update(`${uid}-${issueId}`).digest("hex").slice(0, 10);
}

/** The id-carrying address to give a customer (Reply-To of outbound mail). */
export function idAddress(support: string, uid: number, issueId: number, secret: string | null): string {
  const at = support.lastIndexOf("@");
  const local = support.slice(0, at);
  const sig = secret ? `-${signIds(secret, uid, issueId)}` : "";
  return `${local}+${uid}-${issueId}${sig}${support.slice(at)}`;
}

/**
 * Reads ids from a recipient address. `supportAddresses` (lower-case) restricts which local parts
 * count as ours; an empty list accepts any.
 */
export function parseAddressIds(recipient: string | null, supportAddresses: string[], secret: string | null): AddressIdsResult {
  if (!recipient) return { ids: null, verified: false, reason: null };
  const addr = recipient.trim().replace(/^<|>$/g, "").toLowerCase();
  const at = addr.lastIndexOf("@");
  if (at < 1) return { ids: null, verified: false, reason: null };
  const m = ID_FORM.exec(addr.slice(0, at));
  if (!m) return { ids: null, verified: false, reason: null };
  const base = `${m[1]}${addr.slice(at)}`;
  if (supportAddresses.length && !supportAddresses.includes(base)) return { ids: null, verified: false, reason: null };
  const ids: AddressIds = { base, uid: Number(m[2]), issueId: Number(m[3]), signature: m[4] ?? null };
  if (!secret) return { ids, verified: true };
  if (!ids.signature) return { ids, verified: false, reason: "address ids carry no signature" };
  const want = Buffer.from(signIds(secret, ids.uid, ids.issueId));
  const got = Buffer.from(ids.signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ids, verified: false, reason: "address ids signature does not verify" };
  return { ids, verified: true };
}

/** Issue 10: whether ids carry our signature (valid), a wrong one (invalid), or none. */
export function signatureOf(ids: AddressIds, secret: string): "valid" | "invalid" | "none" {
  if (!ids.signature) return "none";
  const want = Buffer.from(signIds(secret, ids.uid, ids.issueId));
  const got = Buffer.from(ids.signature.toLowerCase());
  return want.length === got.length && timingSafeEqual(want, got) ? "valid" : "invalid";
}

/** The support address without ids, for routing (service+1-2@x → service@x). */
export function baseAddress(recipient: string, supportAddresses: string[]): string {
  const parsed = parseAddressIds(recipient, supportAddresses, null);
  return parsed.ids?.base ?? recipient.trim().replace(/^<|>$/g, "").toLowerCase();
}
