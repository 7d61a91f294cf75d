// Issue 10, points 1 and 2 (domain.md §9): ids in an address are a capability, not a guess, and a
// forged From is not a participant. End to end through the built binary.
import { describe, expect, it } from "vitest";
import { count, db, readFixture, rows } from "../helpers/cli.js";
import { admin, feed } from "../helpers/setup.js";
import { desk, letter } from "./support.js";

const trace = (out: any, step: string) => out.trace.filter((t: any) => t.step === step);

async function victimIssue(d: ReturnType<typeof desk>) {
  const first = await feed(d, letter({ From: "Alice Smith <alice@customer.example>", Subject: "My order 1042 has not arrived" }));
  expect(first.issues[0]).toMatchObject({ issueId: 1, reference: "CS-000001", created: true });
  return first;
}

describe("ids in the address are a capability (point 1)", () => {
  it("a stranger mailing service+1-1@ is not recorded on the victim's issue, and does not reopen it", async () => {
    const d = desk();
    await victimIssue(d);
    await admin(d, "issue", "set-state", "1", "resolved");
    const out = await feed(d, letter({ From: "mallory@attacker.example", To: "service+1-1@example.test", Subject: "Re: your order" }), ["service+1-1@example.test"]);
    expect(out.userIdentificationId).not.toBe(1);
    expect(out.issues).toEqual([expect.objectContaining({ issueId: 2, created: true, matchedBy: null })]);
    expect(trace(out, "identify")[0]).toEqual({ step: "identify", decision: "ignore address ids (Case 2)", reason: "ids 1-1 ignored: unsigned ids count only from the issue's customer or a participant" });
    // The confirmation goes to the stranger himself, with a signed Reply-To of his own issue.
    expect(out.outbound).toEqual([expect.objectContaining({ to: "mallory@attacker.example", status: "sent" })]);
    const c = db(d);
    expect(count(c, "actions", "issue_id = 1")).toBe(1);
    expect(rows(c, "SELECT state FROM issues WHERE id = 1")[0].state).toBe("resolved");
    expect(rows(c, "SELECT user_identification_id AS uid FROM issues WHERE id = 2")[0].uid).toBe(out.userIdentificationId);
    c.close();
  });

  it("probing ids gives no oracle: a right guess and a wrong one get the same treatment", async () => {
    const d = desk();
    await victimIssue(d);
    const probe = async (to: string, n: number) => feed(d, letter({ From: `mallory${n}@attacker.example`, To: to, Subject: `probe ${n}` }), [to]);
    const hit = await probe("service+1-1@example.test", 1);
    const miss = await probe("service+2-1@example.test", 2);
    const shape = (o: any) => ({ created: o.issues[0].created, matchedBy: o.issues[0].matchedBy, outbound: o.outbound.map((m: any) => m.status) });
    expect(shape(hit)).toEqual(shape(miss));
    expect(shape(hit)).toEqual({ created: true, matchedBy: null, outbound: ["sent"] });
  });

  it("the Reply-To we hand out is signed; a reply to it matches from anyone (a forward), unsigned ids typed by the customer still count", async () => {
    const d = desk();
    const first = await victimIssue(d);
    const eml = await d.readEml(d.emls()[0]);
    const replyTo = eml.replyTo!.value[0].address!;
    expect(replyTo).toMatch(/^service\+1-1-[0-9a-f]{10}@example\.test$/);
    // The secret was created on first use and kept in the database.
    const c = db(d);
    expect(rows(c, "SELECT key FROM settings")).toEqual([{ key: "address_secret" }]);
    expect(rows(c, "SELECT length(value) AS n FROM settings")[0].n).toBe(64);
    c.close();
    const colleague = await feed(d, letter({ From: "bob@customer.example", To: replyTo, Subject: "Fwd: order" }), [replyTo]);
    expect(colleague.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "address-ids" })]);
    expect(colleague.userIdentificationId).toBe(first.userIdentificationId);
    // Header-only signed ids count too (no envelope recipient).
    const viaHeader = await feed(d, letter({ From: "carol@customer.example", To: replyTo, Subject: "also" }));
    expect(viaHeader.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "address-ids" })]);
    const typed = await feed(d, letter({ From: "alice@customer.example", To: "service-1-1@example.test", Subject: "typed by hand" }), ["service-1-1@example.test"]);
    expect(typed.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "address-ids" })]);
  });

  it("a stranger writing to a closed issue's ids gets no issue owned by the victim", async () => {
    const d = desk();
    await victimIssue(d);
    await admin(d, "issue", "set-state", "1", "closed");
    const out = await feed(d, letter({ From: "mallory@attacker.example", To: "service+1-1@example.test", Subject: "Re: order" }), ["service+1-1@example.test"]);
    expect(out.userIdentificationId).not.toBe(1);
    expect(out.issues).toEqual([expect.objectContaining({ issueId: 2, created: true })]);
    const c = db(d);
    expect(rows(c, "SELECT user_identification_id AS uid, follows_closed_id AS f FROM issues WHERE id = 2")[0]).toEqual({ uid: out.userIdentificationId, f: null });
    expect(rows(c, "SELECT to_address AS t FROM outbound_mails ORDER BY id")).toEqual([{ t: "alice@customer.example" }, { t: "mallory@attacker.example" }]);
    c.close();
  });
});

describe("a forged From is not a participant (point 2)", () => {
  it("DMARC fail from our MTA: the victim's subject reference does not match, no confirmation, and no flood hold for the victim", async () => {
    const d = desk({ flood: { maxNewIssues: 3, windowMinutes: 60 } });
    await victimIssue(d);
    const forged = await feed(d, readFixture("forged-from-fails-dmarc.eml"));
    expect(trace(forged, "authenticate")).toEqual([{ step: "authenticate", decision: "unauthenticated", reason: "mx.example.test: dmarc=fail" }]);
    expect(forged.issues).toEqual([expect.objectContaining({ issueId: 2, created: true, matchedBy: null })]);
    expect(trace(forged, "match")[0]).toMatchObject({ decision: "ignored subject-reference" });
    expect(forged.outbound).toEqual([expect.objectContaining({ status: "skipped", error: "our MTA found the sender unauthenticated (Authentication-Results)" })]);
    expect(d.emls()).toHaveLength(1); // only the victim's own first confirmation
    // Three more forged mails: the real customer's next mail is still not held.
    for (let i = 0; i < 3; i++) await feed(d, readFixture("forged-from-fails-dmarc.eml").toString().replace("<forged-from-fails-dmarc@", `<forged-${i}@`).replace("[CS-000001] ", ""));
    const real = await feed(d, letter({ From: "alice@customer.example", Subject: "Another order", "Authentication-Results": "mx.example.test; dmarc=pass header.from=customer.example" }));
    expect(real.status).toBe("complete");
    expect(real.issues[0].created).toBe(true);
    const again = await feed(d, letter({ From: "alice@customer.example", Subject: "Re: [CS-000001] still waiting", "Authentication-Results": "mx.example.test; dmarc=pass" }));
    expect(again.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "subject-reference" })]);
  });

  // DMARC judges the From domain only. A From naming no mailbox leaves the writer to Reply-To or
  // Sender (pickWriter), which DMARC cannot vouch for, nor an SPF/DKIM pass of the attacker's domain.
  it.each([
    ["Reply-To", { From: "undisclosed-recipients:;", "Reply-To": "alice@customer.example" }],
    ["Sender", { From: "Alice Smith", Sender: "alice@customer.example" }],
  ])("From naming no mailbox, the writer from %s: unauthenticated unless SPF or DKIM passed for the writer's domain", async (_field, headers) => {
    const d = desk();
    await victimIssue(d);
    const attacker = "mx.example.test; spf=pass smtp.mailfrom=mallory@attacker.example; dkim=pass header.d=attacker.example; dmarc=permerror";
    const forged = await feed(d, letter({ ...headers, Subject: "Re: [CS-000001] pay here", "Authentication-Results": attacker }));
    expect(trace(forged, "authenticate")).toEqual([
      { step: "authenticate", decision: "unauthenticated", reason: "mx.example.test: From names no mailbox and the writer alice@customer.example comes from Reply-To/Sender; neither SPF nor DKIM passed for customer.example" },
    ]);
    expect(forged.issues).toEqual([expect.objectContaining({ created: true, matchedBy: null })]);
    // Her own provider's DKIM signature for her domain vouches for the same shape.
    const real = await feed(d, letter({ ...headers, Subject: "Re: [CS-000001] from my phone", "Authentication-Results": "mx.example.test; spf=none; dkim=pass header.d=mail.customer.example; dmarc=none" }));
    expect(trace(real, "authenticate")).toEqual([{ step: "authenticate", decision: "authenticated", reason: "mx.example.test: From names no mailbox; dkim=pass for customer.example, the Reply-To/Sender writer's domain" }]);
    expect(real.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "subject-reference" })]);
  });

  it("Authentication-Results from another authserv-id are ignored (a sender cannot vouch for himself)", async () => {
    const d = desk();
    await victimIssue(d);
    const out = await feed(d, letter({ From: "alice@customer.example", Subject: "Re: [CS-000001] x", "Authentication-Results": "evil.example; dmarc=fail" }));
    expect(trace(out, "authenticate")).toEqual([]);
    expect(out.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "subject-reference" })]);
  });
});
