// Issue 10 (domain.md §5, §9): we never answer ourselves. Our outbound mail carries an X-Loop header
// naming our address and a Message-ID on our host; mail bearing either, or From one of our support
// addresses, is our own coming back (a bounce loop, an alias, a forward) and is staged `ignored`.
import { isOwnAddress } from "./confirm.js";
import type { HeaderMap } from "./headers.js";

export interface OwnMailInput {
  headers: HeaderMap;
  messageId: string | null;
  fromAddress: string | null;
  /** Our addresses (support addresses, route addresses, outbound.from), bare. */
  ownAddresses: string[];
  /** What our X-Loop header says (the bare outbound.from address). */
  loopAddress: string;
  /** The host in our Message-IDs (outbound.host, else the hostname). */
  host: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$/i;

/** The reason the mail is our own, or null. */
export function ownMail(i: OwnMailInput): string | null {
  const loop = i.loopAddress.toLowerCase();
  for (const v of i.headers.get("x-loop") ?? []) {
    if (v.toLowerCase().replace(/^.*<|>.*$/g, "").trim() === loop) return `our own mail: X-Loop ${loop}`;
  }
  if (i.messageId) {
    const id = i.messageId.replace(/^<|>$/g, "");
    const at = id.lastIndexOf("@");
    if (at > 0 && id.slice(at + 1).toLowerCase() === i.host.toLowerCase() && GUID.test(id.slice(0, at))) return `our own mail: Message-ID ${i.messageId} is one of ours`;
  }
  if (i.fromAddress && isOwnAddress(i.fromAddress, i.ownAddresses)) return `our own mail: From ${i.fromAddress.toLowerCase()} is one of our addresses`;
  return null;
}
