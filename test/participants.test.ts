// issue 13 point 4 end to end: the people a customer's mail is addressed or copied to (other than
// ours) become participants of its issue, may then use its reference (domain.md §3), and `issue
// show` says how each joined.
import { describe, expect, it } from "vitest";
import { count, db, rows, runAsync, type Sandbox } from "./helpers/cli.js";
import { admin, configured, feed, fill } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");

describe("people copied on a customer's mail are participants", () => {
  it("To and Cc join the new issue, except our own, robot and repeated addresses", async () => {
    const sb = configured();
    const out = await feed(sb, fill("cc-colleagues-become-participants.eml"));
    expect(out.issues).toEqual([expect.objectContaining({ issueId: 1, created: true })]);

    const shown = await admin(sb, "issue", "show", "1");
    expect(shown.participants).toEqual(["alice@customer.example", "dave@customer.example", "bob@customer.example", "carol@customer.example"]);
    expect(shown.participantDetails).toEqual([
      { email: "alice@customer.example", joined: "customer", stagedMailId: null },
      { email: "dave@customer.example", joined: "cc", stagedMailId: out.stagedId },
      { email: "bob@customer.example", joined: "cc", stagedMailId: out.stagedId },
      { email: "carol@customer.example", joined: "cc", stagedMailId: out.stagedId },
    ]);
    // service@, billing@ and service+7-9@ are ours; noreply@ is a robot; alice@ is the sender.
    expect(count(db(sb), "issue_participants")).toBe(3);

    const text = (await cli(sb, "issue", "show", "1")).stdout;
    expect(text).toContain("participants (4)");
    expect(text).toMatch(/alice@customer\.example\s+customer\n/);
    expect(text).toMatch(new RegExp(`bob@customer\\.example\\s+cc'd on staged mail ${out.stagedId}\\n`));
  });

  it("a colleague who was copied may reply with the reference; a stranger may not", async () => {
    const sb = configured();
    const first = await feed(sb, fill("cc-colleagues-become-participants.eml"));

    const bob = await feed(sb, fill("cc-colleague-replies-by-reference.eml"));
    expect(bob.issues).toEqual([expect.objectContaining({ issueId: 1, created: false, matchedBy: "subject-reference" })]);
    const mallory = await feed(sb, fill("cc-stranger-uses-reference.eml"));
    expect(mallory.issues).toEqual([expect.objectContaining({ issueId: 2, created: true, matchedBy: null })]);
    expect(mallory.trace.map((t: any) => t.decision)).toContain("ignored subject-reference");

    const shown = await admin(sb, "issue", "show", "1");
    expect(shown.participantDetails).toEqual([
      { email: "alice@customer.example", joined: "customer", stagedMailId: null },
      { email: "dave@customer.example", joined: "cc", stagedMailId: first.stagedId },
      // Bob was copied first; that he then wrote in does not change how he joined.
      { email: "bob@customer.example", joined: "cc", stagedMailId: first.stagedId },
      { email: "carol@customer.example", joined: "cc", stagedMailId: first.stagedId },
      // Copied on Bob's mail: a colleague's mail on the issue brings its Cc in too.
      { email: "erin@customer.example", joined: "cc", stagedMailId: bob.stagedId },
    ]);
    expect(shown.actions.map((a: any) => a.replyText)).toEqual([
      "Hello, we move to a new office next month; Bob and Carol will follow up.\n\nAlice",
      "The new address is 1 High Street, from 1 February.\n\nBob",
    ]);
    expect(rows(db(sb), `SELECT issue_id AS "issueId", count(*) AS n FROM issue_participants GROUP BY issue_id`)).toEqual([{ issueId: 1, n: 4 }]);
  });

  it("someone who wrote in is listed as such, with the mail that brought them", async () => {
    const sb = configured();
    const issue = await admin(sb, "issue", "create", "--kind", "ticket", "--email", "alice@customer.example");
    const bob = await feed(sb, fill("colleague-reply-matched-by-body-token.eml", { ISSUE_GUID: issue.guid }));
    const shown = await admin(sb, "issue", "show", "1");
    expect(shown.participantDetails).toEqual([
      { email: "alice@customer.example", joined: "customer", stagedMailId: null },
      { email: "bob@customer.example", joined: "wrote in", stagedMailId: bob.stagedId },
    ]);
    expect((await cli(sb, "issue", "show", "1")).stdout).toMatch(new RegExp(`bob@customer\\.example\\s+wrote in \\(staged mail ${bob.stagedId}\\)`));
  });

  it("a mail our MTA found unauthenticated (DMARC fail) brings no one in (domain.md §9)", async () => {
    const sb = configured({ trustedAuthservId: "mx.example.test" });
    const out = await feed(sb, fill("cc-from-unauthenticated-sender-adds-no-one.eml"));
    expect(out.trace.find((t: any) => t.step === "authenticate")?.decision).toBe("unauthenticated");
    const shown = await admin(sb, "issue", "show", String(out.issues[0].issueId));
    expect(shown.participants).toEqual(["alice@customer.example"]);
    expect(count(db(sb), "issue_participants")).toBe(0);
    // The same mail passing DMARC copies Mallory in: it is the verdict that keeps her out.
    const passed = await feed(sb, fill("cc-from-unauthenticated-sender-adds-no-one.eml").replace("dmarc=fail (p=reject)", "dmarc=pass").replace("<cc-from-unauthenticated-sender@", "<cc-from-authenticated-sender@"));
    expect((await admin(sb, "issue", "show", String(passed.issues[0].issueId))).participants).toContain("mallory@attacker.example");
  });

  it("with no support addresses configured, the address the mail was delivered to is not a participant", async () => {
    const sb = configured({ supportAddresses: [] });
    await feed(sb, fill("cc-colleagues-become-participants.eml"), ["--recipient", "service@example.test"]);
    const shown = await admin(sb, "issue", "show", "1");
    // billing@ and service+7-9@ are not known to be ours here; service@ is the envelope recipient.
    expect(shown.participants).not.toContain("service@example.test");
    expect(shown.participants).toContain("bob@customer.example");
  });
});
