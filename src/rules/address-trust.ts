// Issue 10 (domain.md §2, §9): when do ids in a support address count? Ids we hand out are signed,
// so a good signature is a capability that counts from anyone (the customer may forward it). Unsigned
// ids (service-UID-ISSUE@, typed by hand) are guessable: like references, they count only from the
// issue's customer or an earlier participant, only when the MTA gave the recipient (header addresses
// are written by the sender), and never from a sender our MTA found unauthenticated.

export interface AddressTrustInput {
  signature: "valid" | "invalid" | "none";
  /** The recipient came from the envelope (command line / environment), not from a header. */
  fromEnvelope: boolean;
  /** false when our MTA's Authentication-Results say the From is forged. */
  authenticated: boolean;
  /** The sender is the customer or an earlier participant. */
  senderIsParticipant: boolean;
}

export type AddressTrust = { count: true; reason: string } | { count: false; reason: string };

export function addressIdsTrust(i: AddressTrustInput): AddressTrust {
  if (i.signature === "valid") return { count: true, reason: "signed" };
  if (i.signature === "invalid") return { count: false, reason: "the signature does not verify" };
  if (!i.fromEnvelope) return { count: false, reason: "unsigned ids in a header address count only when signed" };
  if (!i.authenticated) return { count: false, reason: "unsigned ids, and our MTA found the sender unauthenticated" };
  if (!i.senderIsParticipant) return { count: false, reason: "unsigned ids count only from the issue's customer or a participant" };
  return { count: true, reason: "unsigned, from the issue's customer or a participant" };
}
