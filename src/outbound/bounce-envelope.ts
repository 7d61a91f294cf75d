// issue 13: a confirmation goes out with our signed VERP envelope sender (service+bounce-ID-SIG@domain)
// and its Message-ID as DSN envelope id, so its bounce names its outbox row even when it quotes nothing.
import type { OutgoingMail } from "../pipeline/deps.js";
import { bounceAddress } from "../rules/bounce-address.js";

export function withBounceAddress(from: string, secret: string | null, mail: OutgoingMail, outboundId: number): OutgoingMail {
  const envelopeFrom = bounceAddress(from, outboundId, secret);
  return envelopeFrom ? { ...mail, envelopeFrom, envelopeId: mail.messageId.replace(/^<|>$/g, "") } : mail;
}
