// Issue 14 point 5: the work-item rules an administrator's changes must follow (src/rules/transitions.ts).
import { describe, expect, it } from "vitest";
import { checkParent, checkTransition, type IssueFacts } from "../../src/rules/transitions.js";

const ticket = (over: Partial<IssueFacts> = {}): IssueFacts => ({ kind: "ticket", state: "todo", mergedIntoId: null, convertedToId: null, splitInto: 0, ...over });

describe("checkTransition", () => {
  it.each([
    // [from, to, allowed]
    ["draft", "todo", true],
    ["draft", "waiting", false],
    ["draft", "resolved", false],
    ["todo", "draft", true],
    ["todo", "in_progress", true],
    ["todo", "waiting", true],
    ["todo", "resolved", true],
    ["todo", "closed", true],
    ["in_progress", "draft", false],
    ["in_progress", "resolved", true],
    ["waiting", "todo", true],
    ["waiting", "waiting", true],
    ["waiting", "draft", false],
    ["resolved", "todo", true],
    ["resolved", "in_progress", true],
    ["resolved", "closed", true],
    ["resolved", "waiting", false],
    ["resolved", "draft", false],
    ["closed", "todo", false],
    ["closed", "in_progress", false],
    ["closed", "resolved", false],
    ["closed", "closed", true],
  ])("%s → %s: %s", (from, to, allowed) => {
    expect(checkTransition(ticket({ state: from }), to).ok).toBe(allowed);
  });

  it.each([
    ["merged", ticket({ state: "closed", mergedIntoId: 7 }), "todo", /merged into issue 7/],
    ["merged, even to its own state", ticket({ state: "closed", mergedIntoId: 7 }), "closed", /merged into issue 7/],
    ["converted", ticket({ state: "resolved", convertedToId: 9 }), "todo", /converted into case 9/],
    ["split", ticket({ state: "closed", splitInto: 2 }), "closed", /split into 2 tickets/],
    ["an action resolved", ticket({ kind: "action" }), "resolved", /only tickets and cases can be resolved/],
    ["an unknown state", ticket(), "done", /unknown state "done"/],
    ["an unknown current state", ticket({ state: "limbo" }), "todo", /"limbo" is unknown/],
    ["closed reopened", ticket({ state: "closed" }), "todo", /closed cannot go to todo \(closed is final/],
  ])("refuses %s", (_what, issue, to, reason) => {
    const v = checkTransition(issue, to);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(reason);
  });

  it.each([
    ["more_info", true],
    ["third_party", true],
    ["internal", true],
    ["scheduled", true],
    ["coffee", false],
    ["", false],
  ])("wait type %j: %s", (waitType, allowed) => {
    expect(checkTransition(ticket(), "waiting", waitType).ok).toBe(allowed);
  });

  it("a wait type goes with waiting only", () => {
    expect(checkTransition(ticket(), "todo", "more_info")).toEqual({ ok: false, reason: "a wait type goes with state waiting" });
  });
});

describe("checkParent", () => {
  it.each([
    ["action", "case", true],
    ["action", "ticket", false],
    ["action", "action", false],
    ["action", null, false],
    ["case", "case", true],
    ["case", "ticket", true],
    ["case", "action", false],
    ["case", null, true],
    ["ticket", "ticket", true],
    ["ticket", "case", false],
    ["ticket", null, true],
    ["widget", null, false],
  ])("a %s under %s: %s", (kind, parent, allowed) => {
    expect(checkParent(kind, parent).ok).toBe(allowed);
  });

  it("says why", () => {
    expect(checkParent("action", "ticket")).toEqual({ ok: false, reason: "an action's parent must be a case, not a ticket" });
  });
});
