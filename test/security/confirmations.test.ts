// Issue 10, points 3 and 4 (domain.md §9): confirmations cannot be aimed, and we never answer
// ourselves. End to end through the built binary, counting what lands in the outbox.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { count, db, readFixture, rows, run } from "../helpers/cli.js";
import { admin, feed } from "../helpers/setup.js";
import { desk, letter } from "./support.js";

const confirm = (out: any) => out.trace.filter((t: any) => t.step === "confirm");

describe("one mail, one recipient (point 3)", () => {
  it("a quoted local part holding 5,001 addresses gets no confirmation at all; the trace says why", async () => {
    const d = desk();
    const list = Array.from({ length: 5000 }, (_, i) => `v${i}@t.example`).join(",");
    const out = await feed(d, letter({ From: `"${list},x"@evil.example`, Subject: "hello" }));
    expect(out.issues[0].created).toBe(true);
    expect(out.outbound).toEqual([]);
    // Longer than any mailbox can be (RFC 5321: 320): no sender address at all, and the trace says so.
    expect(confirm(out)[0].reason).toBe("the mail names no sender address");
    expect(out.trace).toContainEqual(expect.objectContaining({ step: "parse", decision: "no sender address" }));
    expect(d.emls()).toEqual([]);
    expect(count(db(d), "outbound_mails")).toBe(0);
  });

  it("a From naming several addresses gets none", async () => {
    const d = desk();
    const out = await feed(d, letter({ From: "dora@customer.example, victim@target.example", Subject: "hello" }));
    expect(out.outbound).toEqual([]);
    expect(confirm(out)[0].reason).toBe("the From header names 2 addresses; a confirmation goes to one mailbox only");
  });

  it("one mailbox under many spellings is one address for the limit (case, +tag, trailing dot)", async () => {
    const d = desk({ limits: { confirmationsPerAddressPerDay: 2 } });
    const spellings = ["victim@target.example", "Victim+1@target.example", "victim+2@TARGET.example", "victim@target.example."];
    const outs = [];
    for (const [i, from] of spellings.entries()) outs.push(await feed(d, letter({ From: from, Subject: `attempt ${i}` })));
    expect(outs.map((o) => o.outbound[0].status)).toEqual(["sent", "sent", "skipped", "skipped"]);
    expect(outs[2].outbound[0].error).toBe("rate limit: 2 confirmations to victim+2@target.example in the last 24 h (limit 2)");
    expect(d.emls()).toHaveLength(2);
    expect(rows(db(d), "SELECT DISTINCT to_key AS k FROM outbound_mails")).toEqual([{ k: "victim@target.example" }]);
  });

  it("the per-domain and global hourly limits hold across different mailboxes", async () => {
    const d = desk({ limits: { confirmationsPerDomainPerHour: 2, confirmationsPerHour: 3 } });
    const send = async (from: string, i: number) => (await feed(d, letter({ From: from, Subject: `s ${i}` }))).outbound[0];
    const a = [await send("u1@target.example", 1), await send("u2@target.example", 2), await send("u3@target.example", 3)];
    expect(a.map((o) => o.status)).toEqual(["sent", "sent", "skipped"]);
    expect(a[2].error).toBe("rate limit: 2 confirmations to target.example in the last hour (limit 2)");
    const b = [await send("w1@other.example", 4), await send("w2@other.example", 5)];
    expect(b.map((o) => o.status)).toEqual(["sent", "skipped"]);
    expect(b[1].error).toBe("rate limit: 3 confirmations in the last hour (limit 3)");
    expect(d.emls()).toHaveLength(3);
  });

  it("mail flagged as spam by the MTA is staged `spam`, not processed or answered, until resubmitted", async () => {
    const d = desk();
    const out = await feed(d, readFixture("spam-flagged-is-held-as-spam.eml"));
    expect(out.status).toBe("spam");
    expect(out.issues).toEqual([]);
    expect(out.outbound).toEqual([]);
    expect(count(db(d), "issues")).toBe(0);
    expect(d.emls()).toEqual([]);
    const listed = run(d, ["list", "--status", "spam", "--json"]).json();
    expect(listed.staged).toEqual([expect.objectContaining({ id: out.stagedId, status: "spam", reason: "flagged as spam by the MTA (X-Spam-Flag: YES)" })]);
    expect(run(d, ["list"]).stdout).toMatch(/spam\s+prize@lottery\.example/);
    const released = await admin(d, "resubmit", String(out.stagedId));
    expect(released).toMatchObject({ status: "complete", issues: [expect.objectContaining({ created: true })] });
  });

  it("the subject in the confirmation has no control characters and at most 200 characters", async () => {
    const d = desk();
    await feed(d, letter({ Subject: `Broken\u0007 bell and \u001b[31mred ${"x".repeat(400)}` }));
    const raw = readFileSync(join(d.outbox, d.emls()[0]), "latin1");
    const m = await d.readEml(d.emls()[0]);
    expect(m.subject).toMatch(/^\[CS-000001\] Re: Broken bell and \[31mred x+$/);
    expect(m.subject!.length).toBeLessThanOrEqual(200);
    expect(raw).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });
});

describe("we never answer ourselves (point 4)", () => {
  it("our own confirmation fed back is `ignored`, not stored as customer information", async () => {
    const d = desk();
    const first = await feed(d, letter({ From: "dora@customer.example", Subject: "Help" }));
    await feed(d, letter({ From: "erin@customer.example", Subject: "Help too" }));
    const [ours, second] = d.emls().map((f) => readFileSync(join(d.outbox, f)));
    expect(ours.toString()).toMatch(/^X-Loop: service@example\.test$/m);
    const back = await feed(d, ours);
    expect(back.status).toBe("ignored");
    expect(back.trace.at(-1)).toMatchObject({ step: "screen", decision: "ignored", reason: "our own mail: X-Loop service@example.test" });
    const c = db(d);
    expect(count(c, "actions", "issue_id = ?", first.issues[0].issueId)).toBe(1);
    expect(count(c, "user_identifications", "email = 'service@example.test'")).toBe(0);
    expect(count(c, "outbound_mails")).toBe(2);
    c.close();
    // Without the X-Loop header (a relay dropped it), our Message-ID still gives it away.
    const stripped = second.toString().replace(/^X-Loop:.*\r?\n/m, "").replace(/^From:.*\r?$/m, "From: relay@elsewhere.example\r");
    const again = await feed(d, stripped);
    expect(again).toMatchObject({ status: "ignored" });
    expect(again.trace.at(-1).reason).toMatch(/^our own mail: Message-ID <[0-9a-f-]{36}\.[0-9a-f-]{36}@helpdesk\.example\.test> is one of ours$/);
  });

  it("mail From one of our support addresses is `ignored`", async () => {
    const d = desk();
    const out = await feed(d, readFixture("mail-from-own-address-gets-no-confirmation.eml"));
    expect(out).toMatchObject({ status: "ignored", issues: [], outbound: [] });
    expect(count(db(d), "issues")).toBe(0);
    expect(d.emls()).toEqual([]);
  });
});
