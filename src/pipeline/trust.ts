// Issue 10 (domain.md §9): the trust decisions of the workflow, wired to the database. The rules
// themselves are pure (src/rules/own-mail.ts, spam-flag.ts, authentication-results.ts,
// address-trust.ts); this file reads what they need and applies what they say.
import { randomBytes } from "node:crypto";
import type { StagedMail } from "../store/queries/queries.js";
import { countFloodIssues, ensureSetting } from "../store/queries/trust-queries.js";
import { authVerdict } from "../rules/authentication-results.js";
import { bareAddress } from "../rules/confirm.js";
import { parseHeaderBlock, type HeaderMap } from "../rules/headers.js";
import { ownMail } from "../rules/own-mail.js";
import { spamFlag } from "../rules/spam-flag.js";
import { headerText } from "../outbound/header-safe.js";
import { parseAddresses } from "./header-text.js";
import type { Deps } from "./deps.js";

// Per database (its path or URL): a transaction is a new Db object each time, the database is not.
const secrets = new Map<string, string>();

/**
 * The secret that signs the ids in the addresses we hand out: config addressSecret, else the
 * database's own, created on first use (32 random bytes) and kept in the settings table.
 */
export async function addressSecretOf(deps: Pick<Deps, "db" | "config" | "paths">): Promise<string> {
  if (deps.config.addressSecret) return deps.config.addressSecret;
  let s = secrets.get(deps.paths.db);
  if (!s) secrets.set(deps.paths.db, (s = await ensureSetting(deps.db, "address_secret", () => randomBytes(32).toString("hex"))));
  return s;
}

export interface MailTrust {
  /** false only when our MTA's Authentication-Results say the From is forged. */
  authenticated: boolean;
  reason: string | null;
}

// The header block is read once per record for screen() and trustOf() (the workflow asks both).
const parsed = new WeakMap<StagedMail, HeaderMap>();
function headersOf(row: StagedMail): HeaderMap {
  let h = parsed.get(row);
  if (!h) parsed.set(row, (h = parseHeaderBlock(row.headers)));
  return h;
}

/** `writer`: the identified address (the record's fromAddress; taken from the record when it is one). */
export function trustOf(deps: Pick<Deps, "config">, headers: StagedMail | HeaderMap, writer: string | null = headers instanceof Map ? null : headers.fromAddress): MailTrust {
  const h = headers instanceof Map ? headers : headersOf(headers);
  const v = authVerdict(h.get("authentication-results") ?? [], deps.config.trustedAuthservId, writer ? { address: writer, inFrom: namedInFrom(h, writer) } : null);
  return v ? { authenticated: v.authenticated, reason: v.reason } : { authenticated: true, reason: null };
}

/** Whether a From header names this address (pickWriter falls back to Reply-To, then Sender, when none does). */
function namedInFrom(h: HeaderMap, address: string): boolean {
  const a = address.toLowerCase();
  return (h.get("from") ?? []).some((line) => parseAddresses(line).some((x) => x.address.toLowerCase() === a));
}

/** Our own addresses as the own-mail rule sees them: support and route addresses, outbound.from. */
export function ownAddresses(deps: Pick<Deps, "config">): string[] {
  const c = deps.config;
  return [...c.supportAddresses, ...c.routes.map((r) => r.address), c.outbound.from].filter(Boolean).map(bareAddress);
}

export interface Screened {
  status: "ignored" | "spam";
  reason: string;
}

/**
 * Before any matching: our own mail coming back is `ignored`; mail the MTA flagged as spam is `spam`
 * (kept, not processed until resubmitted; a resubmit of a spam record is the administrator's
 * judgement and is not screened for spam again).
 */
export function screen(deps: Deps, row: StagedMail, opts: { releasedSpam?: boolean } = {}): Screened | null {
  const headers = headersOf(row);
  const own = ownMail({ headers, messageId: row.messageId, fromAddress: row.fromAddress, ownAddresses: ownAddresses(deps), loopAddress: bareAddress(deps.config.outbound.from), host: deps.hostname });
  // Reasons quote the mail (its From, Message-ID, a header): no control characters in them.
  if (own) return { status: "ignored", reason: headerText(own, 300) };
  const spam = opts.releasedSpam ? null : spamFlag(headers, deps.config.spamHeaders);
  if (spam) return { status: "spam", reason: headerText(`flagged as spam by the MTA (${spam})`, 300) };
  return null;
}

/** The time the flood limit counts for this mail: its own Date when imported (a replay), else now. */
export function floodTime(deps: Deps, row: StagedMail): string {
  return row.source === "import" && row.date ? row.date : deps.now().toISOString();
}

/**
 * The flood limit (issue 5), counted at the mail's flood time. A sender our MTA found unauthenticated
 * counts against everything opened under the identity; an authenticated one only against issues
 * opened by authenticated mail, so forged mail cannot get the real sender's mail held.
 */
export async function floodReason(deps: Deps, row: StagedMail, uid: number, trust: MailTrust): Promise<string | null> {
  const flood = deps.config.flood;
  if (!flood) return null;
  const until = floodTime(deps, row);
  const since = new Date(new Date(until).getTime() - flood.windowMinutes * 60_000).toISOString();
  const n = await countFloodIssues(deps.db, uid, since, until, !trust.authenticated);
  if (n < flood.maxNewIssues) return null;
  return `flood: ${n} new issues from this sender in ${flood.windowMinutes} minutes (limit ${flood.maxNewIssues})`;
}

/**
 * What a new issue records for the flood limit (its flood time, whether the mail was forged), written
 * with the issue itself. Live, authenticated mail: nothing, its open time is its flood time.
 */
export function floodFields(deps: Deps, row: StagedMail, trust: MailTrust): { floodAt: string; unauthenticated: boolean } | null {
  if (trust.authenticated && row.source !== "import") return null;
  return { floodAt: floodTime(deps, row), unauthenticated: !trust.authenticated };
}
