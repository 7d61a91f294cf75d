// domain.md §2: the envelope recipient from the command line or ORIGINAL_RECIPIENT/RECIPIENT; else
// the first of Delivered-To, X-Original-To, To, Cc that names a configured support address (the
// first of them at all when none is configured).
import { parseAddressIds } from "../rules/address-ids.js";

export interface RecipientInput {
  envelope: string | null;
  deliveredTo: string[]; // Delivered-To and X-Original-To, in header order
  to: string[];
  cc: string[];
  supportAddresses: string[]; // lower-case
}

export function chooseRecipient(i: RecipientInput): { recipient: string | null; source: string } {
  if (i.envelope && i.envelope.trim()) return { recipient: i.envelope.trim().replace(/^<|>$/g, ""), source: "envelope" };
  const candidates: [string, string[]][] = [
    ["Delivered-To/X-Original-To", i.deliveredTo],
    ["To", i.to],
    ["Cc", i.cc],
  ];
  const isOurs = (a: string) => {
    const addr = a.toLowerCase();
    return i.supportAddresses.includes(addr) || parseAddressIds(addr, i.supportAddresses, null).ids !== null;
  };
  for (const [source, list] of candidates) {
    const hit = i.supportAddresses.length ? list.find(isOurs) : list[0];
    if (hit) return { recipient: hit, source };
  }
  return { recipient: null, source: "none" };
}
