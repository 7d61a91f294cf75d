// domain.md §2: who wrote. Case 1 from the ids in the address; Case 2 (ACS with Salesforce's contact
// lookup) a registered user's first identification, else the first identification with that address,
// else a new one with the names read from the display name.
import { participantEmails } from "../store/queries/participant-queries.js";
import { createIdentification, getAccount, getIdentification, getIssue, getUser, senderByEmail, type Issue, type SenderFound } from "../store/queries/queries.js";
import { identifyLock, type ReadAhead } from "./read-ahead.js";
import { addressIdsTrust } from "../rules/address-trust.js";
import { parseAddressIds, signatureOf } from "../rules/address-ids.js";
import { splitDisplayName } from "../rules/display-name.js";
import type { Deps } from "./deps.js";
import type { TraceStep } from "./outcome.js";
import { addressSecretOf, type MailTrust } from "./trust.js";

export interface Writer {
  userIdentificationId: number;
  supportLevel: string | null;
  trace: TraceStep;
}

/**
 * Look, then create when there is none: deps.db must be a write transaction. The lock on the address
 * makes that one step across processes and hosts (issue 11.3): on PostgreSQL two first mails from
 * one address at once each found nothing and each made an identification (SQLite's single writer
 * already serialises them).
 */
export async function identifySender(deps: Deps, address: string | null, displayName: string | null, ahead?: ReadAhead["sender"]): Promise<Writer> {
  const at = deps.now().toISOString();
  const email = address?.toLowerCase() ?? null;
  let found: SenderFound | undefined;
  // Looked up already, under the same lock, in this transaction (import: read-ahead.ts).
  if (email && ahead?.email === email) found = await ahead.found;
  else if (email) {
    await deps.db.lockKey(identifyLock(email));
    found = await senderByEmail(deps.db, email);
  }
  if (found && found.userId !== null) {
    const { userId, supportLevel, userIdentificationId: existing } = found;
    if (existing !== null) return { userIdentificationId: existing, supportLevel, trace: step(`user identification ${existing}`, `${email} is registered user ${userId}`) };
    const created = await createIdentification(deps.db, { userId, dateAdded: at, email: null, firstNames: null, lastName: null });
    return { userIdentificationId: created.id, supportLevel, trace: step(`new user identification ${created.id}`, `${email} is registered user ${userId} with no identification yet`) };
  }
  const known = found?.identificationByEmail ?? null;
  if (known !== null) return { userIdentificationId: known, supportLevel: null, trace: step(`user identification ${known}`, `${email} wrote before`) };
  const names = email ? splitDisplayName(displayName, email) : { firstNames: null, lastName: null };
  const created = await createIdentification(deps.db, { userId: null, email, dateAdded: at, ...names });
  return { userIdentificationId: created.id, supportLevel: null, trace: step(`new user identification ${created.id}`, email ? `${email} is not known` : "the mail names no sender") };
}

const step = (decision: string, reason: string): TraceStep => ({ step: "identify", decision, reason });

/** Case 1: the identification named by the address ids; its user's account gives the support level. */
export async function supportLevelOf(deps: Deps, userIdentificationId: number): Promise<string | null> {
  const ident = await getIdentification(deps.db, userIdentificationId);
  const user = ident?.userId ? await getUser(deps.db, ident.userId) : undefined;
  return user?.accountId ? ((await getAccount(deps.db, user.accountId))?.supportLevel ?? null) : null;
}

export interface AddressIdsIdentity {
  userIdentificationId: number | null;
  supportLevel: string | null;
  /** The issue the ids name, when it belongs to that identification (matchedBy address-ids). */
  issue: Issue | null;
  trace: TraceStep[];
}

/** Issue 10: what decides whether the ids count (domain.md §9). */
export interface AddressIdsContext {
  /** Where the recipient came from (chooseRecipient's source): "envelope" or a header. */
  recipientSource: string;
  senderEmail: string | null;
  trust: MailTrust;
}

/**
 * domain.md §2, Case 1: `service+UID-ISSUE@` names the writer and the issue, if the ids count (signed
 * by us, or unsigned from the issue's customer or a participant: rules/address-trust.ts) and the
 * issue really belongs to that identification. Otherwise they are ignored, the trace says why, and
 * the caller goes on with Case 2.
 */
export async function identifyByAddressIds(deps: Deps, recipient: string | null, support: string[], ctx: AddressIdsContext): Promise<AddressIdsIdentity> {
  const none: AddressIdsIdentity = { userIdentificationId: null, supportLevel: null, issue: null, trace: [] };
  const parsed = parseAddressIds(recipient, support, null);
  if (!parsed.ids) return none;
  const { uid, issueId } = parsed.ids;
  const ignore = (why: string): AddressIdsIdentity => ({ ...none, trace: [{ step: "identify", decision: "ignore address ids (Case 2)", reason: `ids ${uid}-${issueId} ignored: ${why}` }] });
  const issue = await getIssue(deps.db, issueId);
  const signature = signatureOf(parsed.ids, await addressSecretOf(deps));
  const sender = ctx.senderEmail?.toLowerCase() ?? null;
  const trust = addressIdsTrust({
    signature,
    fromEnvelope: ctx.recipientSource === "envelope",
    authenticated: ctx.trust.authenticated,
    senderIsParticipant: signature === "none" && !!issue && !!sender && (await participantEmails(deps.db, issue.id)).includes(sender),
  });
  if (!trust.count) return ignore(trust.reason);
  if (!issue) return ignore(`no issue ${issueId} (looks tampered with)`);
  if (issue.userIdentificationId !== uid) return ignore(`issue ${issueId} does not belong to identification ${uid} (looks tampered with)`);
  return {
    userIdentificationId: uid,
    supportLevel: await supportLevelOf(deps, uid),
    issue,
    trace: [
      { step: "identify", decision: `user identification ${uid}`, reason: `address ids ${uid}-${issueId} verified (${trust.reason})` },
      { step: "match", decision: `matched ${issue.reference} by address-ids`, reason: `issue ${issue.id} belongs to identification ${uid}` },
    ],
  };
}
