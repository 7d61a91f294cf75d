// issue 13: a confirmation goes out with our signed VERP envelope sender (service+bounce-ID-SIG@domain)
// and its Message-ID as DSN envelope id, so its bounce names its outbox row even when it quotes nothing.
import type { Config } from "../config.js";
import type { OutgoingMail } from "../pipeline/deps.js";
import { bounceAddress } from "../rules/bounce-address.js";

export function withBounceAddress(config: Config, mail: OutgoingMail, outboundId: number): OutgoingMail {
  const envelopeFrom = bounceAddress(config.outbound.from, outboundId, config.addressSecret);
  return envelopeFrom ? { ...mail, envelopeFrom, envelopeId: mail.messageId.replace(/^<|>$/g, "") } : mail;
}
