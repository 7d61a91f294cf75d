// issue 13: the VERP-style envelope sender of our mail (service+bounce-ID-SIG@domain). A bounce comes
// back to it even when the report quotes nothing of the original, and names the outbox row. The
// signature is an HMAC with addressSecret, as for the address ids (address-ids.ts), so nobody can
// mark another row bounced by writing to a guessed address.
import { createHmac, timingSafeEqual } from "node:crypto";

const FORM = /^(.+?)\+bounce-(\d{1,12})(?:-([0-9a-f]{6,64}))?$/i;

export function signBounce(secret: string, outboundId: number): string {
  return createHmac("sha256", secret).update(`bounce-${outboundId}`).digest("hex").slice(0, 10);
}

/** The envelope sender for outbox row `outboundId`, built on our From address (`service@domain`). */
export function bounceAddress(from: string, outboundId: number, secret: string | null): string | null {
  const addr = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
  const at = addr.lastIndexOf("@");
  if (at < 1) return null;
  const local = addr.slice(0, at).replace(/\+.*$/, "");
  return `${local}+bounce-${outboundId}${secret ? `-${signBounce(secret, outboundId)}` : ""}${addr.slice(at)}`;
}

/**
 * Whether an address has a bounce address's form (an outbox id, signed or not). Only then is the
 * secret needed to read it: most mail is no bounce, and the secret costs a database read.
 */
export function hasBounceForm(address: string | null): boolean {
  return formOf(address) !== null;
}

function formOf(address: string | null): RegExpExecArray | null {
  const addr = (address ?? "").trim().replace(/^<|>$/g, "").toLowerCase();
  const at = addr.lastIndexOf("@");
  return at > 0 ? FORM.exec(addr.slice(0, at)) : null;
}

export type BounceAddressResult = { outboundId: number; verified: true } | { outboundId: number | null; verified: false; reason: string | null };

/** Reads a bounce address; without a secret configured an unsigned id is accepted (like address ids). */
export function parseBounceAddress(address: string | null, secret: string | null): BounceAddressResult {
  const m = formOf(address);
  if (!m) return { outboundId: null, verified: false, reason: null };
  const outboundId = Number(m[2]);
  if (!secret) return { outboundId, verified: true };
  if (!m[3]) return { outboundId, verified: false, reason: "bounce address carries no signature" };
  const want = Buffer.from(signBounce(secret, outboundId));
  const got = Buffer.from(m[3]);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { outboundId, verified: false, reason: "bounce address signature does not verify" };
  return { outboundId, verified: true };
}
