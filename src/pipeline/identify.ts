// domain.md §2, Case 2 (ACS with Salesforce's contact lookup): a registered user's first
// identification, else the first identification with that address, else a new one with the names
// read from the display name.
import { createIdentification, firstIdentificationByEmail, firstIdentificationOfUser, findUserByEmail, getAccount, getIdentification, getUser } from "../db/queries.js";
import { splitDisplayName } from "../rules/display-name.js";
import type { Deps } from "./deps.js";
import type { TraceStep } from "./outcome.js";

export interface Writer {
  userIdentificationId: number;
  supportLevel: string | null;
  trace: TraceStep;
}

export function identifySender(deps: Deps, address: string | null, displayName: string | null): Writer {
  const at = deps.now().toISOString();
  const email = address?.toLowerCase() ?? null;
  const user = email ? findUserByEmail(deps.db, email) : undefined;
  if (user) {
    const supportLevel = user.accountId ? (getAccount(deps.db, user.accountId)?.supportLevel ?? null) : null;
    const existing = firstIdentificationOfUser(deps.db, user.id);
    if (existing) return { userIdentificationId: existing.id, supportLevel, trace: step(`user identification ${existing.id}`, `${email} is registered user ${user.id}`) };
    const created = createIdentification(deps.db, { userId: user.id, dateAdded: at, email: null, firstNames: null, lastName: null });
    return { userIdentificationId: created.id, supportLevel, trace: step(`new user identification ${created.id}`, `${email} is registered user ${user.id} with no identification yet`) };
  }
  const known = email ? firstIdentificationByEmail(deps.db, email) : undefined;
  if (known) return { userIdentificationId: known.id, supportLevel: null, trace: step(`user identification ${known.id}`, `${email} wrote before`) };
  const names = email ? splitDisplayName(displayName, email) : { firstNames: null, lastName: null };
  const created = createIdentification(deps.db, { userId: null, email, dateAdded: at, ...names });
  return { userIdentificationId: created.id, supportLevel: null, trace: step(`new user identification ${created.id}`, email ? `${email} is not known` : "the mail names no sender") };
}

const step = (decision: string, reason: string): TraceStep => ({ step: "identify", decision, reason });

/** Case 1: the identification named by the address ids; its user's account gives the support level. */
export function supportLevelOf(deps: Deps, userIdentificationId: number): string | null {
  const ident = getIdentification(deps.db, userIdentificationId);
  const user = ident?.userId ? getUser(deps.db, ident.userId) : undefined;
  return user?.accountId ? (getAccount(deps.db, user.accountId)?.supportLevel ?? null) : null;
}
