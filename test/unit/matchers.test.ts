// domain.md §3: the contract every matcher keeps, the order they run in, first hit wins, and the
// participant guard on guessable evidence.
import { describe, expect, it } from "vitest";
import { bodyReference } from "../../src/match/body-reference.js";
import { bodyToken, bodyTokenMatcher } from "../../src/match/body-token.js";
import { inReplyTo } from "../../src/match/in-reply-to.js";
import { issueGuidFromMessageId, outboundMessageId } from "../../src/match/message-id.js";
import { matchers, runMatchers } from "../../src/match/order.js";
import { references } from "../../src/match/references.js";
import { subjectReference } from "../../src/match/subject-reference.js";
import type { Matcher, MatchInput } from "../../src/match/types.js";
import { guidOf, makeIssue, store } from "../helpers/issues.js";

const MAIL_GUID = "11111111-2222-4333-8444-555555555555";
const msgId = (issueId: number) => outboundMessageId(MAIL_GUID, guidOf(issueId), "helpdesk.example.test");

const base: MatchInput = Object.freeze({ inReplyTo: null, references: [], subject: "Hello", text: "Just a question.", referencePrefix: "CS-" });
const input = (over: Partial<MatchInput>): MatchInput => Object.freeze({ ...base, ...over });

const issues = [1, 2, 3, 4, 5, 42].map((id) => makeIssue(id));
const lookup = store(...issues);

// Per matcher: an input carrying evidence for issue `id`.
const evidence: Record<string, (id: number) => MatchInput> = {
  "in-reply-to": (id) => input({ inReplyTo: msgId(id) }),
  references: (id) => input({ references: ["<root@customer.example>", msgId(id)] }),
  "body-token": (id) => input({ text: `Thanks.\n\n> Your request ${bodyToken(guidOf(id))}\n> was received.` }),
  "subject-reference": (id) => input({ subject: `Re: [CS-${String(id).padStart(6, "0")}] Order` }),
  "body-reference": (id) => input({ text: `About my ticket CS-${String(id).padStart(6, "0")}, any news?` }),
};

const odd: [string, MatchInput][] = [
  ["all empty", input({ inReplyTo: "", references: [], subject: "", text: "" })],
  ["all null", input({ inReplyTo: null, subject: null, text: null })],
  ["malformed message ids", input({ inReplyTo: "<<>>", references: ["", "<", ">", "no-brackets", "<a.b@>", `<${MAIL_GUID}.not-a-guid@x>`] })],
  ["a guid of no issue", input({ inReplyTo: outboundMessageId(MAIL_GUID, "99999999-9999-4999-8999-999999999999", "x"), text: bodyToken("99999999-9999-4999-8999-999999999999") })],
  ["references to no issue", input({ subject: "[CS-999999] [CS-] [CS-abc]", text: "CS-000000 CS-99999999999999 XCS-000001 CS-000001x" })],
  ["regex metacharacters", input({ subject: "(.*)[?+]{}\\", text: "$& $1 \\d+ [ref:(.*)]", referencePrefix: "C.S+(" })],
  ["unicode and control characters", input({ subject: "Ünïcødé \u0000\u202e 🎫", text: "\u0000\r\n\t🎫 [ref:ｆｆ]" })],
  ["a very long body", input({ text: "x".repeat(2_000_000) + " CS-" })],
];

const all: Matcher[] = [inReplyTo, references, bodyTokenMatcher, subjectReference, bodyReference];

describe.each(all.map((m) => [m.name, m] as const))("matcher contract: %s", (name, m) => {
  it("returns the candidate named by its evidence, with the evidence for the trace", () => {
    for (const id of [1, 42]) {
      const hit = m.match(evidence[name](id), lookup);
      expect(hit?.issue.id).toBe(id);
      expect(hit?.evidence).toMatch(/\S/);
    }
  });

  it("returns null on unrelated input", () => {
    expect(m.match(base, lookup)).toBeNull();
  });

  it("returns null when the evidence names an issue that does not exist", () => {
    expect(m.match(evidence[name](777), lookup)).toBeNull();
  });

  it.each(odd)("never throws on odd input (%s) and finds nothing", (_label, odd) => {
    expect(m.match(odd, lookup)).toBeNull();
  });

  it("only reads: it runs against a frozen input and a frozen lookup", () => {
    const frozen = Object.freeze({ ...evidence[name](2), references: Object.freeze([...evidence[name](2).references]) as string[] });
    expect(() => m.match(frozen, lookup)).not.toThrow();
  });

  it("ignores evidence that belongs to the other matchers", () => {
    for (const other of Object.keys(evidence).filter((k) => k !== name && !(k.endsWith("reference") && name.endsWith("reference")))) {
      expect(m.match(evidence[other](3), lookup), `${name} must not react to ${other}`).toBeNull();
    }
  });
});

describe("matcher order (domain.md §3, Enate)", () => {
  it("is in-reply-to, references, body-token, subject-reference, body-reference", () => {
    expect(matchers.map((m) => m.name)).toEqual(["in-reply-to", "references", "body-token", "subject-reference", "body-reference"]);
  });

  it("marks only the issue references as guessable", () => {
    expect(Object.fromEntries(matchers.map((m) => [m.name, m.guessable]))).toEqual({
      "in-reply-to": false,
      references: false,
      "body-token": false,
      "subject-reference": true,
      "body-reference": true,
    });
  });

  // Evidence for every matcher at once, each naming a different issue: the earliest must win.
  const everything = input({
    inReplyTo: msgId(1),
    references: [msgId(2)],
    subject: "Re: [CS-000004] Order",
    text: `See ${bodyToken(guidOf(3))} and CS-000005.`,
  });
  const trustAll = () => true;

  it.each([
    ["in-reply-to", {}, 1],
    ["references", { inReplyTo: null }, 2],
    ["body-token", { inReplyTo: null, references: [] }, 3],
    ["subject-reference", { inReplyTo: null, references: [], text: "See CS-000005." }, 4],
    ["body-reference", { inReplyTo: null, references: [], subject: "Order", text: "See CS-000005." }, 5],
  ] as const)("first hit wins: %s", (by, without, id) => {
    const r = runMatchers(input({ ...everything, ...(without as Partial<MatchInput>) }), lookup, trustAll);
    expect(r.candidate?.matchedBy).toBe(by);
    expect(r.candidate?.issue.id).toBe(id);
    expect(r.trace.at(-1)).toMatchObject({ step: "match", decision: `matched CS-${String(id).padStart(6, "0")} by ${by}` });
  });

  it("an In-Reply-To that is not ours falls through to References", () => {
    const r = runMatchers(input({ inReplyTo: "<CAFoo123@mail.gmail.com>", references: [msgId(2)] }), lookup, trustAll);
    expect(r.candidate?.matchedBy).toBe("references");
  });

  it("References: the newest (last) id of ours wins", () => {
    const r = runMatchers(input({ references: [msgId(1), "<other@x>", msgId(2), "<newest-not-ours@x>"] }), lookup, trustAll);
    expect(r.candidate?.issue.id).toBe(2);
  });

  it("no evidence: no match, and the trace says so", () => {
    const r = runMatchers(base, lookup, trustAll);
    expect(r.candidate).toBeNull();
    expect(r.trace).toEqual([{ step: "match", decision: "no match", reason: "no matcher found an existing issue" }]);
  });
});

describe("participant guard on guessable references", () => {
  const strangerOnly = (trusted: number[]) => (issueId: number) => trusted.includes(issueId);

  it("ignores a subject reference from a stranger and says so in the trace", () => {
    const r = runMatchers(input({ subject: "[CS-000004]" }), lookup, strangerOnly([]));
    expect(r.candidate).toBeNull();
    expect(r.trace[0]).toMatchObject({ step: "match", decision: "ignored subject-reference" });
    expect(r.trace[0].reason).toContain("not the customer or a participant of CS-000004");
    expect(r.trace.at(-1)?.decision).toBe("no match");
  });

  it("ignores a body reference from a stranger", () => {
    const r = runMatchers(input({ text: "CS-000005" }), lookup, strangerOnly([]));
    expect(r.candidate).toBeNull();
    expect(r.trace.map((t) => t.decision)).toEqual(["ignored body-reference", "no match"]);
  });

  it("an ignored subject reference falls through to a body reference the sender may use", () => {
    const r = runMatchers(input({ subject: "[CS-000004]", text: "CS-000005" }), lookup, strangerOnly([5]));
    expect(r.candidate).toMatchObject({ matchedBy: "body-reference", issue: { id: 5 } });
    expect(r.trace[0].decision).toBe("ignored subject-reference");
  });

  it("accepts references from the customer or a participant", () => {
    const r = runMatchers(input({ subject: "[CS-000004]" }), lookup, strangerOnly([4]));
    expect(r.candidate).toMatchObject({ matchedBy: "subject-reference", issue: { id: 4 } });
  });

  it.each(["in-reply-to", "references", "body-token"])("does not apply to %s (it carries a GUID, not guessable)", (name) => {
    const r = runMatchers(evidence[name](3), lookup, strangerOnly([]));
    expect(r.candidate).toMatchObject({ matchedBy: name, issue: { id: 3 } });
  });
});

describe("outbound Message-ID form <MAILGUID.ISSUEGUID@HOST>", () => {
  it.each([
    [`<${MAIL_GUID}.${guidOf(7)}@host.example>`, guidOf(7)],
    [`${MAIL_GUID}.${guidOf(7)}@host.example`, guidOf(7)],
    [`  <${MAIL_GUID.toUpperCase()}.${guidOf(7).toUpperCase()}@HOST>  `, guidOf(7)],
    [`<${MAIL_GUID}.${guidOf(7)}@host.example.enate>`, guidOf(7)],
    [`<${guidOf(7)}@host.example>`, null],
    [`<${MAIL_GUID}.${guidOf(7)}>`, null],
    [`<x${MAIL_GUID}.${guidOf(7)}@host>`, null],
    ["<CAFoo@mail.gmail.com>", null],
    ["", null],
  ])("%s → %s", (id, guid) => {
    expect(issueGuidFromMessageId(id)).toBe(guid);
  });

  it("round-trips", () => {
    expect(issueGuidFromMessageId(outboundMessageId(MAIL_GUID, guidOf(9), "h"))).toBe(guidOf(9));
  });
});

describe("issue references (prefix configurable)", () => {
  it.each([
    ["[CS-000042]", 42],
    ["cs-000042", 42],
    ["CS-42", 42],
    ["CS-0000042", 42],
    ["(CS-000042)", 42],
    ["Re: Fwd: CS-000001 and CS-000042", 1],
    ["XCS-000042", null],
    ["CS-000042abc", null],
    ["ABC-CS-000042", null],
    ["CS-", null],
  ])("%s → %s", (subject, id) => {
    expect(subjectReference.match(input({ subject }), lookup)?.issue.id ?? null).toBe(id);
  });

  it("uses the configured prefix", () => {
    const l = store(makeIssue(42, { reference: "HELP-000042" }));
    expect(subjectReference.match(input({ subject: "[HELP-000042]", referencePrefix: "HELP-" }), l)?.issue.id).toBe(42);
    expect(subjectReference.match(input({ subject: "[CS-000042]", referencePrefix: "HELP-" }), l)).toBeNull();
  });

  it("skips references to unknown issues and takes the first known one", () => {
    expect(bodyReference.match(input({ text: "CS-000777 then CS-000003" }), lookup)?.issue.id).toBe(3);
  });
});
