// domain.md §4 end to end: what a matched reply does to each state, the parent chain of closed
// items, and split, merged and converted tickets. Work items are set up with the admin commands.
import { describe, expect, it } from "vitest";
import { count, db, rows } from "./helpers/cli.js";
import { admin, configured, feed, createIssue, fill, setState } from "./helpers/setup.js";

// Back to todo means queue and assignee are set again by the rules (Enate): issues made by hand have
// neither, so a reassignment is visible.
const rules = {
  defaultRoute: { kind: "ticket", queue: "frontline", sendResponse: false },
  assignment: [
    { when: { supportLevel: "gold" }, assignee: "gina", queue: "vip" },
    { when: { subjectMatches: "order" }, assignee: "olga" },
  ],
};
const setup = () => configured(rules);
const issueRow = (sb: ReturnType<typeof setup>, id: number) =>
  rows(db(sb), `SELECT state, wait_type AS "waitType", new_info AS "newInfo", queue, assignee, closed_date AS "closedDate" FROM issues WHERE id = ?`, id)[0];
const actionsOn = (sb: ReturnType<typeof setup>) => rows(db(sb), `SELECT issue_id AS "issueId", count(*) AS n FROM actions GROUP BY issue_id ORDER BY issue_id`).map((r) => [r.issueId, r.n]);
const decisions = (out: any) => out.trace.filter((t: any) => t.step === "state").map((t: any) => t.decision);

describe("running work items: append and flag new information", () => {
  it.each(["draft", "todo", "in_progress"])("%s", async (state) => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, state);
    const out = await feed(sb, fill("reply-to-running-ticket.eml"));

    expect(out.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: false, reopened: false, matchedBy: "subject-reference", state }]);
    expect(issueRow(sb, 1)).toEqual({ state, waitType: null, newInfo: 1, queue: null, assignee: null, closedDate: null });
    expect(actionsOn(sb)).toEqual([[1, 1]]);
    expect(count(db(sb), "interactions")).toBe(1);
    expect(decisions(out)).toEqual(["append to CS-000001"]);
  });
});

describe("waiting", () => {
  it("waiting for something other than more information: append, new information, still waiting", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, "waiting", "third_party");
    const out = await feed(sb, fill("reply-to-waiting-ticket.eml"));
    expect(out.issues[0]).toMatchObject({ issueId: 1, state: "waiting", reopened: false });
    expect(issueRow(sb, 1)).toMatchObject({ state: "waiting", waitType: "third_party", newInfo: 1, queue: null, assignee: null });
    expect(actionsOn(sb)).toEqual([[1, 1]]);
  });

  it("waiting for more information: → todo, queue and assignee set again", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, "waiting", "more_info");
    const out = await feed(sb, fill("reply-to-ticket-waiting-for-more-info.eml"));
    expect(out.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" }]);
    expect(issueRow(sb, 1)).toMatchObject({ state: "todo", waitType: null, newInfo: 1, queue: "frontline", assignee: "olga" });
    expect(decisions(out)).toEqual(["CS-000001 waiting → todo"]);
  });

  it("an action and its parent case both waiting for more information: action → todo, case → in_progress", async () => {
    const sb = setup();
    await createIssue(sb, "case", { subject: "Order 1042" });
    await createIssue(sb, "action", { parent: 1, subject: "Ask for the serial number" });
    await setState(sb, 1, "waiting", "more_info");
    await setState(sb, 2, "waiting", "more_info");
    const out = await feed(sb, fill("reply-to-action-waiting-for-more-info.eml"));

    expect(out.issues).toEqual([{ issueId: 2, reference: "CS-000002", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" }]);
    expect(issueRow(sb, 2)).toMatchObject({ state: "todo", waitType: null, newInfo: 1 });
    expect(issueRow(sb, 1)).toMatchObject({ state: "in_progress", waitType: null });
    expect(actionsOn(sb)).toEqual([[2, 1]]);
    expect(decisions(out)).toEqual(["CS-000002 waiting → todo", "CS-000001 waiting → in_progress"]);
  });

  it("assignment looks at the issue's customer (gold account), not at whoever wrote", async () => {
    const sb = setup();
    const account = await admin(sb, "account", "add", "--name", "Customer Ltd", "--support-level", "gold");
    await admin(sb, "user", "add", "--email", "alice@customer.example", "--name", "Alice Smith", "--account", String(account.id));
    const issue = await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, "waiting", "more_info");
    // Bob (no account) answers with the token from the customer's mail.
    const out = await feed(sb, fill("colleague-reply-matched-by-body-token.eml", { ISSUE_GUID: issue.guid }));
    expect(out.issues[0]).toMatchObject({ issueId: 1, matchedBy: "body-token", state: "todo" });
    expect(issueRow(sb, 1)).toMatchObject({ state: "todo", queue: "vip", assignee: "gina" });
  });
});

describe("resolved", () => {
  it.each(["ticket", "case"] as const)("a resolved %s is reopened to todo with queue and assignee", async (kind) => {
    const sb = setup();
    await createIssue(sb, kind, { subject: "Order 1042" });
    await setState(sb, 1, "resolved");
    expect(issueRow(sb, 1).closedDate).not.toBeNull();
    const out = await feed(sb, fill("reply-to-resolved-ticket.eml"));
    expect(out.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: false, reopened: true, matchedBy: "subject-reference", state: "todo" }]);
    expect(issueRow(sb, 1)).toEqual({ state: "todo", waitType: null, newInfo: 1, queue: "frontline", assignee: "olga", closedDate: null });
    expect(actionsOn(sb)).toEqual([[1, 1]]);
    expect(decisions(out)).toEqual(["reopen CS-000001"]);
  });
});

describe("closed: up the chain to the first open item, else a new issue", () => {
  it.each([
    ["reply-to-closed-action.eml", "case", "action"],
    ["reply-to-closed-case.eml", "ticket", "case"],
    ["reply-to-closed-ticket-with-open-parent.eml", "ticket", "ticket"],
  ] as const)("%s: the %s above the closed %s gets the mail", async (file, parentKind, childKind) => {
    const sb = setup();
    await createIssue(sb, parentKind, { subject: "Order 1042" });
    await createIssue(sb, childKind, { parent: 1, subject: "Order 1042, part" });
    await setState(sb, 2, "closed");
    const out = await feed(sb, fill(file));

    expect(out.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" }]);
    expect(actionsOn(sb)).toEqual([[1, 1]]);
    expect(issueRow(sb, 2)).toMatchObject({ state: "closed", newInfo: 0 });
    expect(issueRow(sb, 1)).toMatchObject({ state: "todo", newInfo: 1 });
    expect(decisions(out)).toEqual(["go up to CS-000001", "append to CS-000001"]);
  });

  it("a closed ticket with no parent: not appended; a new issue linked to it", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, "closed");
    const out = await feed(sb, fill("reply-to-closed-ticket.eml"));

    expect(out.issues).toEqual([{ issueId: 2, reference: "CS-000002", created: true, reopened: false, matchedBy: null, state: "todo" }]);
    expect(decisions(out)).toEqual(["open a new issue"]);
    expect(actionsOn(sb)).toEqual([[2, 1]]);
    expect(rows(db(sb), "SELECT follows_closed_id AS f, kind, queue, assignee, user_identification_id AS uid FROM issues WHERE id = 2")).toEqual([
      { f: 1, kind: "ticket", queue: "frontline", assignee: "olga", uid: 1 },
    ]);
    expect(issueRow(sb, 1)).toMatchObject({ state: "closed", newInfo: 0 });
  });

  it("a closed action whose case and ticket are closed too: a new issue following the action", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await createIssue(sb, "case", { parent: 1 });
    await createIssue(sb, "action", { parent: 2 });
    for (const id of [1, 2, 3]) await setState(sb, id, "closed");
    const out = await feed(sb, fill("reply-to-closed-chain.eml"));
    expect(out.issues).toEqual([{ issueId: 4, reference: "CS-000004", created: true, reopened: false, matchedBy: null, state: "todo" }]);
    expect(rows(db(sb), "SELECT follows_closed_id AS f FROM issues WHERE id = 4")).toEqual([{ f: 3 }]);
    expect(actionsOn(sb)).toEqual([[4, 1]]);
  });
});

describe("split tickets: every child gets the mail and its own rules", () => {
  const split = async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042 and 1043" });
    const made = await admin(sb, "issue", "split", "1", "--into", "2");
    expect(made.children.map((c: any) => c.reference)).toEqual(["CS-000002", "CS-000003"]);
    return sb;
  };

  it.each([
    ["reply-to-split-ticket.eml", "the original"],
    ["reply-to-split-child.eml", "a child"],
  ])("%s (%s matched) → one action on every child, one interaction", async (file) => {
    const sb = await split();
    await setState(sb, 3, "waiting", "more_info");
    const out = await feed(sb, fill(file));

    expect(out.issues).toEqual([
      { issueId: 2, reference: "CS-000002", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" },
      { issueId: 3, reference: "CS-000003", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" },
    ]);
    expect(actionsOn(sb)).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(out.actionIds).toHaveLength(2);
    expect(count(db(sb), "interactions")).toBe(1);
    expect(issueRow(sb, 1)).toMatchObject({ state: "closed", newInfo: 0 });
    expect(issueRow(sb, 2)).toMatchObject({ state: "todo", newInfo: 1, assignee: null });
    expect(issueRow(sb, 3)).toMatchObject({ state: "todo", newInfo: 1, waitType: null, queue: "frontline", assignee: "olga" });
    expect(decisions(out)[0]).toBe("split: deliver to CS-000002, CS-000003");
  });

  it("a closed child is skipped when a sibling is open (no new issue); the trace says why", async () => {
    const sb = await split();
    await setState(sb, 2, "closed");
    const out = await feed(sb, fill("reply-to-split-ticket.eml"));
    expect(out.issues).toEqual([{ issueId: 3, reference: "CS-000003", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" }]);
    expect(actionsOn(sb)).toEqual([[3, 1]]);
    expect(count(db(sb), "issues")).toBe(3);
    expect(decisions(out)).toEqual(["split: deliver to CS-000002, CS-000003", "open a new issue", "append to CS-000003", "no new issue"]);
  });
});

describe("merged and converted tickets", () => {
  const merged = async () => {
    const sb = setup();
    for (let i = 0; i < 3; i++) await createIssue(sb, "ticket", { subject: "Order 1042" });
    const r = await admin(sb, "issue", "merge", "1", "2", "--into", "3");
    expect(r.merged.map((m: any) => [m.id, m.state, m.mergedIntoId])).toEqual([
      [1, "closed", 3],
      [2, "closed", 3],
    ]);
    return sb;
  };

  it.each([
    ["reply-to-merged-ticket.eml", "an original"],
    ["reply-to-merge-target.eml", "the target"],
  ])("%s (%s matched) → the target, with the target's rules (resolved → reopened)", async (file) => {
    const sb = await merged();
    await setState(sb, 3, "resolved");
    const out = await feed(sb, fill(file));
    expect(out.issues).toEqual([{ issueId: 3, reference: "CS-000003", created: false, reopened: true, matchedBy: "subject-reference", state: "todo" }]);
    expect(actionsOn(sb)).toEqual([[3, 1]]);
    expect(issueRow(sb, 1)).toMatchObject({ state: "closed", newInfo: 0 });
  });

  it("reply-to-converted-ticket.eml: the case it was converted into gets the mail", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    const conv = await admin(sb, "issue", "convert", "1");
    expect(conv.ticket).toMatchObject({ id: 1, state: "resolved", convertedToId: 2 });
    expect(conv.case).toMatchObject({ id: 2, kind: "case", state: "todo", subject: "Order 1042" });

    const out = await feed(sb, fill("reply-to-converted-ticket.eml"));
    expect(out.issues).toEqual([{ issueId: 2, reference: "CS-000002", created: false, reopened: false, matchedBy: "subject-reference", state: "todo" }]);
    expect(actionsOn(sb)).toEqual([[2, 1]]);
    expect(issueRow(sb, 1)).toMatchObject({ state: "resolved", newInfo: 0 });
    expect(issueRow(sb, 2)).toMatchObject({ state: "todo", newInfo: 1 });
    expect(decisions(out)).toEqual(["follow conversion to CS-000002", "append to CS-000002"]);
  });
});

describe("corrupt links (made outside the commands) never hang the MTA", () => {
  it("a merge cycle: the mail completes, opens a new issue, and the trace names the cycle", async () => {
    const sb = setup();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    // `issue merge` refuses this; a hand-edited database might not.
    db(sb).run("UPDATE issues SET merged_into_id = CASE id WHEN 1 THEN 2 ELSE 1 END");
    const started = Date.now();
    const out = await feed(sb, fill("reply-to-running-ticket.eml"));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(out.status).toBe("complete");
    expect(out.issues).toEqual([{ issueId: 3, reference: "CS-000003", created: true, reopened: false, matchedBy: null, state: "todo" }]);
    expect(decisions(out)).toEqual(["follow merge to CS-000002", "follow merge to CS-000001", "stopped at CS-000001"]);
    expect(actionsOn(sb)).toEqual([[3, 1]]);
  });
});
