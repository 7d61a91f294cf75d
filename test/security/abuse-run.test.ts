// Issue 10's proof: one attacker, an hour of attempts (the clock injected, nothing waited), against
// the confirmation path. Prints the report and asserts the limits hold. The full run (one mail a
// second) is `node dist/bench/run.js abuse`.
import { describe, expect, it } from "vitest";
import { abuseRun } from "../../bench/abuse.js";

describe("abuse run", () => {
  it("an hour of attempts: at most 5 confirmations to one mailbox, 30 to one domain, 300 in all, one recipient each", async () => {
    const r = await abuseRun({ stepSeconds: 3 });
    console.log(JSON.stringify(r));
    expect(r.attempts).toBe(1200);
    expect(r.toVictimMailbox).toBe(r.limits.perAddressPerDay);
    expect(r.toVictimDomain).toBe(r.limits.perDomainPerHour);
    expect(r.sent).toBeLessThanOrEqual(r.limits.perHour);
    expect(r.maxRecipientsInOneMail).toBe(1);
    expect(r.byAttack).toMatchObject({ "quoted-list": 0, "several-from": 0, "forged-dmarc-fail": 0, "spam-flagged": 0 });
    expect(r.limits).toEqual({ perAddressPerDay: 5, perDomainPerHour: 30, perHour: 300 });
  }, 120_000);
});
