// domain.md §4 (Enate): what a matched mail does to the work items, one row per rule.
import { describe, expect, it } from "vitest";
import type { Issue } from "../../src/store/queries/queries.js";
import { planDelivery, type Plan } from "../../src/rules/deliver.js";
import { makeIssue, store } from "../helpers/issues.js";

const plan = (matched: number, ...list: Issue[]): Plan => {
  const s = store(...list);
  return planDelivery(s.get(matched)!, s);
};
const targets = (p: Plan) => p.targets.map((t) => ({ id: t.issue.id, patch: t.patch, reopened: t.reopened, reassign: t.reassign }));

describe("running work items (draft, todo, in_progress)", () => {
  it.each(["draft", "todo", "in_progress"])("%s: append and flag new information; state kept", (state) => {
    for (const kind of ["ticket", "case", "action"]) {
      const p = plan(1, makeIssue(1, { state, kind }));
      expect(targets(p)).toEqual([{ id: 1, patch: { newInfo: true }, reopened: false, reassign: false }]);
      expect(p.parentUpdates).toEqual([]);
      expect(p.newIssueFollowing).toBeNull();
      expect(p.trace.at(-1)?.decision).toBe("append to CS-000001");
    }
  });
});

describe("waiting", () => {
  it.each([null, "customer", "third_party"])("wait type %s: append, new information, state kept", (waitType) => {
    const p = plan(1, makeIssue(1, { state: "waiting", waitType }));
    expect(targets(p)).toEqual([{ id: 1, patch: { newInfo: true }, reopened: false, reassign: false }]);
  });

  it.each(["ticket", "case", "action"])("more_info (%s): → todo, wait type cleared, queue and assignee set again", (kind) => {
    const p = plan(1, makeIssue(1, { kind, state: "waiting", waitType: "more_info" }));
    expect(targets(p)).toEqual([{ id: 1, patch: { newInfo: true, state: "todo", waitType: null }, reopened: false, reassign: true }]);
    expect(p.parentUpdates).toEqual([]);
  });

  it("an action and its parent case both waiting for more_info: the case → in_progress", () => {
    const p = plan(2, makeIssue(1, { kind: "case", state: "waiting", waitType: "more_info" }), makeIssue(2, { kind: "action", parentId: 1, state: "waiting", waitType: "more_info" }));
    expect(targets(p).map((t) => [t.id, t.patch.state])).toEqual([[2, "todo"]]);
    expect(p.parentUpdates.map((u) => [u.issue.id, u.patch])).toEqual([[1, { state: "in_progress", waitType: null }]]);
    expect(p.trace.map((t) => t.decision)).toContain("CS-000001 waiting → in_progress");
  });

  it.each([
    ["the parent case waits for something else", { kind: "case", state: "waiting", waitType: "customer" }, { kind: "action", waitType: "more_info" }],
    ["the parent case is in progress", { kind: "case", state: "in_progress" }, { kind: "action", waitType: "more_info" }],
    ["the parent is a ticket, not a case", { kind: "ticket", state: "waiting", waitType: "more_info" }, { kind: "action", waitType: "more_info" }],
    ["the child is a case, not an action", { kind: "case", state: "waiting", waitType: "more_info" }, { kind: "case", waitType: "more_info" }],
    ["the action waits for something else", { kind: "case", state: "waiting", waitType: "more_info" }, { kind: "action", waitType: "customer" }],
  ] as const)("parent untouched when %s", (_l, parent, child) => {
    const p = plan(2, makeIssue(1, parent), makeIssue(2, { ...child, state: "waiting", parentId: 1 }));
    expect(p.parentUpdates).toEqual([]);
  });
});

describe("resolved (tickets and cases)", () => {
  it.each(["ticket", "case"])("%s: append, reopen to todo, queue/assignee set again, new information", (kind) => {
    const p = plan(1, makeIssue(1, { kind, state: "resolved", closedDate: "2024-01-02T00:00:00.000Z" }));
    expect(targets(p)).toEqual([{ id: 1, patch: { newInfo: true, state: "todo", closedDate: null }, reopened: true, reassign: true }]);
    expect(p.trace.at(-1)).toMatchObject({ decision: "reopen CS-000001", reason: "resolved → todo" });
  });
});

describe("closed: go up the chain (action → case → parent case or ticket)", () => {
  it.each([
    ["closed action → its open case", [makeIssue(1, { kind: "case" }), makeIssue(2, { kind: "action", parentId: 1, state: "closed" })], 2, 1],
    ["closed case → its parent case", [makeIssue(1, { kind: "case", state: "in_progress" }), makeIssue(2, { kind: "case", parentId: 1, state: "closed" })], 2, 1],
    ["closed case → its parent ticket", [makeIssue(1, { kind: "ticket" }), makeIssue(2, { kind: "case", parentId: 1, state: "closed" })], 2, 1],
    ["closed ticket → its parent ticket", [makeIssue(1), makeIssue(2, { parentId: 1, state: "closed" })], 2, 1],
    [
      "closed action → closed case → open parent ticket",
      [makeIssue(1), makeIssue(2, { kind: "case", parentId: 1, state: "closed" }), makeIssue(3, { kind: "action", parentId: 2, state: "closed" })],
      3,
      1,
    ],
  ] as const)("%s", (_l, list, matched, target) => {
    const p = plan(matched, ...list);
    expect(targets(p).map((t) => t.id)).toEqual([target]);
    expect(p.newIssueFollowing).toBeNull();
    expect(p.trace[0].decision).toBe(`go up to CS-${String(target).padStart(6, "0")}`);
  });

  it("the open ancestor gets its own state rules (a resolved case is reopened)", () => {
    const p = plan(2, makeIssue(1, { kind: "case", state: "resolved" }), makeIssue(2, { kind: "action", parentId: 1, state: "closed" }));
    expect(targets(p)).toEqual([{ id: 1, patch: { newInfo: true, state: "todo", closedDate: null }, reopened: true, reassign: true }]);
  });

  it.each([
    ["no parent", [makeIssue(1, { state: "closed" })], 1],
    ["every ancestor closed", [makeIssue(1, { state: "closed" }), makeIssue(2, { kind: "case", parentId: 1, state: "closed" }), makeIssue(3, { kind: "action", parentId: 2, state: "closed" })], 3],
    ["the parent does not exist", [makeIssue(2, { parentId: 99, state: "closed" })], 2],
  ] as const)("none open (%s): nothing appended, a new issue follows the closed one", (_l, list, matched) => {
    const p = plan(matched, ...list);
    expect(p.targets).toEqual([]);
    expect(p.newIssueFollowing?.id).toBe(matched);
    expect(p.trace.at(-1)?.decision).toBe("open a new issue");
  });
});

describe("split ticket: every child gets the mail, each on its own rules", () => {
  const family = (...children: Partial<Issue>[]) => [makeIssue(1, { state: "closed" }), ...children.map((c, n) => makeIssue(2 + n, { splitFromId: 1, ...c }))];

  it.each([
    ["the original", 1],
    ["the first child", 2],
    ["the last child", 4],
  ])("matched %s → every child", (_l, matched) => {
    const p = plan(matched, ...family({}, { state: "waiting", waitType: "more_info" }, { state: "resolved" }));
    expect(targets(p)).toEqual([
      { id: 2, patch: { newInfo: true }, reopened: false, reassign: false },
      { id: 3, patch: { newInfo: true, state: "todo", waitType: null }, reopened: false, reassign: true },
      { id: 4, patch: { newInfo: true, state: "todo", closedDate: null }, reopened: true, reassign: true },
    ]);
    expect(p.trace[0].decision).toBe("split: deliver to CS-000002, CS-000003, CS-000004");
  });

  it("a closed child without an open parent gets nothing; its open siblings take the mail, no new issue", () => {
    const p = plan(1, ...family({}, { state: "closed" }));
    expect(targets(p).map((t) => t.id)).toEqual([2]);
    expect(p.newIssueFollowing).toBeNull();
    expect(p.trace.at(-1)).toMatchObject({ decision: "no new issue" });
  });

  it("a closed child goes up to its open parent (once, however many children lead there)", () => {
    const list = [makeIssue(9), makeIssue(1, { state: "closed", parentId: 9 }), makeIssue(2, { splitFromId: 1, parentId: 9, state: "closed" }), makeIssue(3, { splitFromId: 1, parentId: 9, state: "closed" })];
    const p = plan(2, ...list);
    expect(targets(p).map((t) => t.id)).toEqual([9]);
  });

  it("every child closed and nothing open above: a new issue follows the first closed child", () => {
    const p = plan(1, ...family({ state: "closed" }, { state: "closed" }));
    expect(p.targets).toEqual([]);
    expect(p.newIssueFollowing?.id).toBe(2);
  });

  it("a child that was later merged: its share follows the merge", () => {
    const p = plan(1, ...family({}, { state: "closed", mergedIntoId: 10 }), makeIssue(10));
    expect(targets(p).map((t) => t.id)).toEqual([2, 10]);
  });
});

describe("merged and converted tickets", () => {
  it.each([
    ["an original", 1],
    ["another original", 2],
    ["the target", 3],
  ])("merged: %s matched → the target, with its own rules", (_l, matched) => {
    const p = plan(matched, makeIssue(1, { state: "closed", mergedIntoId: 3 }), makeIssue(2, { state: "closed", mergedIntoId: 3 }), makeIssue(3, { state: "resolved" }));
    expect(targets(p)).toEqual([{ id: 3, patch: { newInfo: true, state: "todo", closedDate: null }, reopened: true, reassign: true }]);
  });

  it("a chain of merges is followed to the live ticket", () => {
    const p = plan(1, makeIssue(1, { state: "closed", mergedIntoId: 2 }), makeIssue(2, { state: "closed", mergedIntoId: 3 }), makeIssue(3));
    expect(targets(p).map((t) => t.id)).toEqual([3]);
    expect(p.trace.map((t) => t.decision)).toEqual(["follow merge to CS-000002", "follow merge to CS-000003", "append to CS-000003"]);
  });

  it("a merge target that is closed: its chain, else a new issue following it", () => {
    const p = plan(1, makeIssue(1, { state: "closed", mergedIntoId: 2 }), makeIssue(2, { state: "closed" }));
    expect(p.newIssueFollowing?.id).toBe(2);
  });

  it("converted ticket → its case, with the case's rules", () => {
    const p = plan(1, makeIssue(1, { state: "resolved", convertedToId: 2 }), makeIssue(2, { kind: "case", state: "waiting", waitType: "more_info" }));
    expect(targets(p)).toEqual([{ id: 2, patch: { newInfo: true, state: "todo", waitType: null }, reopened: false, reassign: true }]);
    expect(p.trace[0].decision).toBe("follow conversion to CS-000002");
  });

  it("converted ticket whose case is closed: up the case's chain", () => {
    const p = plan(1, makeIssue(1, { state: "resolved", convertedToId: 2 }), makeIssue(2, { kind: "case", state: "closed", parentId: 3 }), makeIssue(3));
    expect(targets(p).map((t) => t.id)).toEqual([3]);
  });
});

describe("corrupt links never hang", () => {
  it.each([
    ["merge cycle", [makeIssue(1, { mergedIntoId: 2 }), makeIssue(2, { mergedIntoId: 1 })]],
    ["self merge", [makeIssue(1, { mergedIntoId: 1 })]],
    ["conversion cycle", [makeIssue(1, { convertedToId: 2 }), makeIssue(2, { convertedToId: 1 })]],
    ["parent cycle of closed issues", [makeIssue(1, { state: "closed", parentId: 2 }), makeIssue(2, { state: "closed", parentId: 1 })]],
    ["split child that is its own root", [makeIssue(1, { splitFromId: 1 })]],
    ["split child merged back into its original", [makeIssue(1, { state: "closed", mergedIntoId: 2 }), makeIssue(2, { splitFromId: 1 })]],
  ] as const)("%s", (_l, list) => {
    const started = Date.now();
    const p = plan(1, ...list);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(p.targets.length + (p.newIssueFollowing ? 1 : 0)).toBeLessThanOrEqual(list.length);
  });

  it("a cycle is named in the trace", () => {
    const p = plan(1, makeIssue(1, { mergedIntoId: 2 }), makeIssue(2, { mergedIntoId: 1 }));
    expect(p.targets).toEqual([]);
    expect(p.trace.at(-1)).toMatchObject({ decision: "stopped at CS-000001", reason: "issue links form a cycle or are too deep" });
  });

  it("a long merge chain within the limit is followed; beyond it, stopped", () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => makeIssue(i + 1, i + 1 < n ? { state: "closed", mergedIntoId: i + 2 } : {}));
    expect(targets(plan(1, ...chain(50))).map((t) => t.id)).toEqual([50]);
    expect(plan(1, ...chain(500)).targets).toEqual([]);
  });
});
