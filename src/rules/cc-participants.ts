// issue 13 point 4 (Request Tracker's ParseNewMessageForTicketCcs): the people a customer's mail
// was addressed or copied to become participants of the issue it lands on, so a colleague on the
// thread can answer with the reference (domain.md §3: references count from participants). Pure:
// the caller passes the addresses, ours and those already known.
import { isOwnAddress, isRobotAddress } from "./confirm.js";

/** A hostile mail may copy thousands: only this many join per mail (the rest are reported). */
export const MAX_CC_PER_MAIL = 20;

export interface CcInput {
  to: string[];
  cc: string[];
  /** Who wrote the mail (a participant already, as the customer or by writing in). */
  sender: string | null;
  /** Our own addresses: support addresses, routes, outbound From, admin, the recipient. */
  own: string[];
  /** Participants the issue has already, lower-case. */
  known: string[];
}

export interface CcDecision {
  add: string[];
  skipped: { address: string; reason: string }[];
}

// RFC 5321 §4.5.3.1: at most 254 octets in a path; no spaces or angle brackets in a bare address.
const ADDRESS = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]{1,190}$/;

export function ccParticipants(i: CcInput): CcDecision {
  const seen = new Set([...i.known.map((a) => a.toLowerCase()), ...(i.sender ? [i.sender.toLowerCase()] : [])]);
  const out: CcDecision = { add: [], skipped: [] };
  for (const raw of [...i.to, ...i.cc]) {
    const address = raw.trim().toLowerCase();
    if (!address || seen.has(address)) continue;
    seen.add(address);
    if (!ADDRESS.test(address)) out.skipped.push({ address, reason: "not a plain address" });
    else if (isOwnAddress(address, i.own)) out.skipped.push({ address, reason: "one of our own addresses" });
    else if (isRobotAddress(address)) out.skipped.push({ address, reason: "a robot address (no-reply, mailer-daemon...)" });
    else if (out.add.length >= MAX_CC_PER_MAIL) out.skipped.push({ address, reason: `more than ${MAX_CC_PER_MAIL} people copied` });
    else out.add.push(address);
  }
  return out;
}
