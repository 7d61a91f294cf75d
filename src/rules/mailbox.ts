// Issue 10 (domain.md §9): a confirmation goes to exactly one validated mailbox, and the rate limits
// key on a normalised address, so `victim+1@`, `Victim@` and `victim@target.example.` are one.
// Pure and linear: no backtracking regex on mail text.
import { parseAddresses } from "../pipeline/header-text.js";

// A mailbox we are willing to write to: no quotes, commas, semicolons, angle brackets, spaces,
// control characters or a second `@` (RFC 5322 allows a quoted local part holding all of these, and
// a mailer that unquotes it turns one From into a list of recipients).
// Nor C1 controls or bidi controls, which a mail client would show reordered (`\u202egpj.exe`).
const FORBIDDEN = /[\s"(),:;<>[\]\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const MAX_ADDRESS = 254; // RFC 5321 §4.5.3.1.3 (path) less the angle brackets

export type MailboxCheck = { ok: true; address: string } | { ok: false; reason: string };

/** One plain `local@domain` mailbox, lower-case; anything else is refused with the reason. */
export function singleMailbox(address: string | null): MailboxCheck {
  if (!address) return { ok: false, reason: "the mail names no sender address" };
  const a = address.trim().toLowerCase();
  const at = a.indexOf("@");
  if (at < 1 || at !== a.lastIndexOf("@") || at === a.length - 1) return { ok: false, reason: `the sender address is not one mailbox (${describe(a)})` };
  if (a.length > MAX_ADDRESS) return { ok: false, reason: "the sender address is longer than 254 characters" };
  if (FORBIDDEN.test(a)) return { ok: false, reason: `the sender address holds characters a single mailbox cannot (${describe(a)})` };
  const local = a.slice(0, at);
  const domain = a.slice(at + 1).replace(/\.+$/, "");
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..") || !domain || domain.startsWith(".") || domain.includes(".."))
    return { ok: false, reason: `the sender address is malformed (${describe(a)})` };
  return { ok: true, address: a };
}

/**
 * Where a confirmation may go: the From header must name one mailbox (several From addresses, or
 * one that is really a list, get none), and that mailbox must pass singleMailbox.
 */
export function confirmationRecipient(fromHeaders: string[], fromAddress: string | null): MailboxCheck {
  const named = fromHeaders.flatMap((v) => parseAddresses(v)).filter((a) => a.address.includes("@"));
  if (named.length > 1) return { ok: false, reason: `the From header names ${named.length} addresses; a confirmation goes to one mailbox only` };
  return singleMailbox(fromAddress);
}

/** The key the per-address limit counts: lower-case, without a +tag, without a trailing dot. */
export function normaliseAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf("@");
  if (at < 1) return a;
  const plus = a.indexOf("+");
  const local = plus > 0 && plus < at ? a.slice(0, plus) : a.slice(0, at);
  return `${local}@${a.slice(at + 1).replace(/\.+$/, "")}`;
}

/** The domain the per-domain limit counts (normalised as above). */
export function addressDomain(address: string): string {
  const n = normaliseAddress(address);
  return n.slice(n.lastIndexOf("@") + 1);
}

const describe = (a: string) => JSON.stringify(a.length > 60 ? `${a.slice(0, 60)}…` : a).replace(/[\u0000-\u001f\u007f]/g, "?");
