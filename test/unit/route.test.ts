// domain.md §5 with Salesforce's assignment rules: the route by support address, then the first
// assignment rule that matches.
import { describe, expect, it } from "vitest";
import type { AssignmentRule, Config } from "../../src/config.js";
import { assign, routeFor } from "../../src/rules/route.js";

const config: Pick<Config, "routes" | "defaultRoute"> = {
  routes: [
    { address: "billing@example.test", kind: "case", queue: "billing", sendResponse: true },
    { address: "Sales@Example.test", kind: "ticket", sendResponse: false },
  ],
  defaultRoute: { kind: "ticket", queue: "general", sendResponse: false },
};

describe("routeFor", () => {
  it.each([
    ["billing@example.test", { kind: "case", queue: "billing", sendResponse: true, routeAddress: "billing@example.test" }],
    ["BILLING@example.test", { kind: "case", queue: "billing", sendResponse: true, routeAddress: "billing@example.test" }],
    ["sales@example.test", { kind: "ticket", queue: null, sendResponse: false, routeAddress: "Sales@Example.test" }],
    ["service@example.test", { kind: "ticket", queue: "general", sendResponse: false, routeAddress: null }],
    [null, { kind: "ticket", queue: "general", sendResponse: false, routeAddress: null }],
    ["", { kind: "ticket", queue: "general", sendResponse: false, routeAddress: null }],
  ])("%s → %o", (address, want) => {
    expect(routeFor(config, address)).toEqual(want);
  });

  it("a default route without a queue gives none", () => {
    expect(routeFor({ routes: [], defaultRoute: { kind: "case", sendResponse: true } }, "x@y")).toEqual({ kind: "case", queue: null, sendResponse: true, routeAddress: null });
  });
});

describe("assign: the first matching rule wins", () => {
  const rules: AssignmentRule[] = [
    { when: { supportLevel: "gold", address: "billing@example.test" }, assignee: "gold-billing", queue: "vip-billing" },
    { when: { supportLevel: "gold" }, assignee: "gold-desk", queue: "vip" },
    { when: { address: "billing@example.test" }, assignee: "billing-desk" },
    { when: { subjectMatches: "\\b(refund|chargeback)\\b" }, assignee: "refunds" },
    { when: {}, assignee: "triage" },
  ];

  it.each([
    ["gold + billing address: the most specific rule listed first", { supportLevel: "gold", address: "billing@example.test", subject: "refund" }, "gold-billing", "vip-billing", 0],
    ["support level (case-insensitive)", { supportLevel: "GOLD", address: "service@example.test", subject: "refund" }, "gold-desk", "vip", 1],
    ["address (case-insensitive), no queue override", { supportLevel: "silver", address: "Billing@Example.test", subject: "refund" }, "billing-desk", null, 2],
    ["subject regex (case-insensitive)", { supportLevel: null, address: null, subject: "Re: REFUND please" }, "refunds", null, 3],
    ["subject regex needs a word boundary", { supportLevel: null, address: null, subject: "refundable?" }, "triage", null, 4],
    ["an empty when matches anything", { supportLevel: null, address: null, subject: null }, "triage", null, 4],
  ])("%s", (_l, input, assignee, queue, rule) => {
    expect(assign(rules, input)).toEqual({ assignee, queue, rule });
  });

  it("every condition of a rule must hold", () => {
    expect(assign([{ when: { supportLevel: "gold", subjectMatches: "urgent" }, assignee: "a" }], { supportLevel: "gold", address: null, subject: "hello" })).toBeNull();
    expect(assign([{ when: { supportLevel: "gold", subjectMatches: "urgent" }, assignee: "a" }], { supportLevel: "gold", address: null, subject: "URGENT" })).toMatchObject({ assignee: "a" });
  });

  it.each([
    ["no rules", [], { supportLevel: "gold", address: "a@b", subject: "x" }],
    ["no support level known", [{ when: { supportLevel: "gold" }, assignee: "a" }], { supportLevel: null, address: null, subject: null }],
    ["no subject", [{ when: { subjectMatches: "." }, assignee: "a" }], { supportLevel: null, address: null, subject: null }],
  ] as const)("no rule matches: null (%s)", (_l, r, input) => {
    expect(assign([...r] as AssignmentRule[], input)).toBeNull();
  });
});
