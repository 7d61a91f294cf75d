// issue 13 point 4: who of a customer's To and Cc joins the issue (pure rule).
import { describe, expect, it } from "vitest";
import { ccParticipants, MAX_CC_PER_MAIL } from "../../src/rules/cc-participants.js";

const own = ["service@example.test", "billing@example.test"];

describe("ccParticipants", () => {
  it.each([
    ["a colleague in Cc joins", [], ["bob@customer.example"], ["bob@customer.example"]],
    ["To counts like Cc", ["service@example.test", "dave@customer.example"], [], ["dave@customer.example"]],
    ["addresses are compared lower-case", [], ["Bob@Customer.EXAMPLE"], ["bob@customer.example"]],
    ["our support addresses do not", ["service@example.test"], ["billing@example.test"], []],
    ["nor ours with ids or a plus tag", [], ["service+7-9@example.test", "service-7-9@example.test", "billing+x@example.test"], []],
    ["nor robots", [], ["noreply@customer.example", "mailer-daemon@customer.example", "list-request@lists.example"], []],
    ["nor the sender", [], ["alice@customer.example"], []],
    ["nor who is on the issue already", [], ["carol@customer.example"], []],
    ["nor anything that is not a plain address", [], ["undisclosed-recipients:;", "bob", "a b@c.example"], []],
    ["each once", ["bob@customer.example"], ["bob@customer.example"], ["bob@customer.example"]],
  ])("%s", (_what, to, cc, add) => {
    const d = ccParticipants({ to, cc, sender: "alice@customer.example", own, known: ["alice@customer.example", "carol@customer.example"] });
    expect(d.add).toEqual(add);
  });

  it("says why each address was left out", () => {
    const d = ccParticipants({ to: ["service@example.test"], cc: ["noreply@x.example", "bob"], sender: null, own, known: [] });
    expect(d.skipped).toEqual([
      { address: "service@example.test", reason: "one of our own addresses" },
      { address: "noreply@x.example", reason: "a robot address (no-reply, mailer-daemon...)" },
      { address: "bob", reason: "not a plain address" },
    ]);
  });

  it(`a mail copying hundreds adds at most ${MAX_CC_PER_MAIL}`, () => {
    const cc = Array.from({ length: 500 }, (_, i) => `p${i}@customer.example`);
    const d = ccParticipants({ to: [], cc, sender: null, own, known: [] });
    expect(d.add).toHaveLength(MAX_CC_PER_MAIL);
    expect(d.add[0]).toBe("p0@customer.example");
    expect(d.skipped).toHaveLength(500 - MAX_CC_PER_MAIL);
  });
});
