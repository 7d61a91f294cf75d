// Issue 5, signed address ids: with addressSecret set, service+UID-ISSUE-SIG@ matches by address ids;
// an unsigned or wrongly signed address is treated as Case 2 (domain.md §2) and the trace says why.
import { describe, expect, it } from "vitest";
import { signIds } from "../../src/rules/address-ids.js";
import { count, db, ingest, mail } from "../helpers/cli.js";
import { configured } from "./support.js";

const secret = "correct horse battery staple";
const config = { supportAddresses: ["service@example.com"], addressSecret: secret };

function opened() {
  const sb = configured(config);
  const first = ingest(sb, mail({ From: "Ann Customer <ann@example.com>", To: "service@example.com", Subject: "My order" }));
  return { sb, uid: first.userIdentificationId as number, issue: first.issues[0] as { issueId: number; reference: string } };
}

const identifyStep = (out: any) => out.trace.find((t: any) => t.step === "identify");

describe("signed address ids", () => {
  it("a correctly signed address matches by address-ids, whoever sends it (the signature is the proof)", () => {
    const { sb, uid, issue } = opened();
    const to = `service+${uid}-${issue.issueId}-${signIds(secret, uid, issue.issueId)}@example.com`;
    const out = ingest(sb, mail({ From: "ann@example.com", To: to, Subject: "Re: My order" }), [to]);
    expect(out.issues).toMatchObject([{ issueId: issue.issueId, matchedBy: "address-ids", created: false }]);
    expect(out.userIdentificationId).toBe(uid);
    expect(identifyStep(out)).toMatchObject({ reason: expect.stringMatching(/verified/) });
    // Upper-case hex (some MTAs fold case) verifies the same.
    const upper = `service+${uid}-${issue.issueId}-${signIds(secret, uid, issue.issueId).toUpperCase()}@example.com`;
    expect(ingest(sb, mail({ From: "ann@example.com", To: upper, Subject: "Re: again" }), [upper]).issues[0].matchedBy).toBe("address-ids");
  });

  it.each([
    { name: "wrong signature", sig: () => "-0123456789", reason: /signature does not verify/ },
    { name: "signature of another issue", sig: (uid: number, issueId: number) => `-${signIds(secret, uid, issueId + 1)}`, reason: /signature does not verify/ },
    { name: "signed with another secret", sig: (uid: number, issueId: number) => `-${signIds("other secret", uid, issueId)}`, reason: /signature does not verify/ },
  ])("$name → Case 2: the sender is identified and the mail is matched like any other", ({ sig, reason }) => {
    const { sb, uid, issue } = opened();
    const to = `service+${uid}-${issue.issueId}${sig(uid, issue.issueId)}@example.com`;
    // A stranger using the customer's ids gets a new issue of their own.
    const stranger = ingest(sb, mail({ From: "mallory@example.net", To: to, Subject: "Re: My order" }), [to]);
    expect(identifyStep(stranger)).toMatchObject({ decision: "ignore address ids (Case 2)", reason: expect.stringMatching(reason) });
    expect(stranger.userIdentificationId).not.toBe(uid);
    expect(stranger.issues).toMatchObject([{ created: true, matchedBy: null }]);
    // The customer with a bad signature still reaches the issue, through the subject reference.
    const customer = ingest(sb, mail({ From: "ann@example.com", To: to, Subject: `Re: [${issue.reference}] My order` }), [to]);
    expect(identifyStep(customer).reason).toMatch(reason);
    expect(customer.issues).toMatchObject([{ issueId: issue.issueId, matchedBy: "subject-reference" }]);
    const d = db(sb);
    expect(count(d, "actions", "issue_id = ?", issue.issueId)).toBe(2);
    d.close();
  });

  it("unsigned ids (issue 10): ignored from a stranger, counted from the issue's customer", () => {
    const { sb, uid, issue } = opened();
    const to = `service+${uid}-${issue.issueId}@example.com`;
    const stranger = ingest(sb, mail({ From: "mallory@example.net", To: to, Subject: "Re: My order" }), [to]);
    expect(identifyStep(stranger)).toMatchObject({ decision: "ignore address ids (Case 2)", reason: expect.stringMatching(/unsigned ids count only from the issue's customer or a participant/) });
    expect(stranger.issues).toMatchObject([{ created: true, matchedBy: null }]);
    const customer = ingest(sb, mail({ From: "ann@example.com", To: to, Subject: "Re: My order" }), [to]);
    expect(customer.issues).toMatchObject([{ issueId: issue.issueId, matchedBy: "address-ids" }]);
  });

  it("without a secret, unsigned ids are accepted (and a signature is not required)", () => {
    const sb = configured({ supportAddresses: ["service@example.com"] });
    const first = ingest(sb, mail({ From: "ann@example.com", To: "service@example.com", Subject: "Hello" }));
    const to = `service+${first.userIdentificationId}-${first.issues[0].issueId}@example.com`;
    expect(ingest(sb, mail({ From: "ann@example.com", To: to, Subject: "Re: Hello" }), [to]).issues[0].matchedBy).toBe("address-ids");
  });
});
