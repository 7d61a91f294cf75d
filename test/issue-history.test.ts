// Issue 14 point 5 end to end: set-state follows the work-item rules, issue create checks the parent,
// issue assign, and every change to an issue is kept in its history with who made it (the OS user
// for commands, the staged mail for the pipeline), shown by `issue show`.
import { userInfo } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { mail, readFixture, runAsync, type Sandbox } from "./helpers/cli.js";
import { admin, configured, createIssue, feed, setState } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");
const me = userInfo().username;
const changes = (shown: any) => shown.history.map((h: any) => [h.actor, h.field, h.oldValue, h.newValue]);

describe("the work-item rules at the edges", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = configured();
    await createIssue(sb, "case", { subject: "Case" }); // 1
    await createIssue(sb, "ticket", { subject: "To merge" }); // 2
    await createIssue(sb, "ticket", { subject: "Target" }); // 3
    await createIssue(sb, "ticket", { subject: "To convert" }); // 4
    await createIssue(sb, "ticket", { subject: "To split" }); // 5
    await createIssue(sb, "ticket", { subject: "Closed" }); // 6
    await admin(sb, "issue", "merge", "2", "--into", "3");
    await admin(sb, "issue", "convert", "4"); // case 7
    await admin(sb, "issue", "split", "5", "--into", "2"); // 8, 9
    await setState(sb, 6, "closed");
  });

  it.each([
    [["issue", "set-state", "2", "todo"], /issue 2: it was merged into issue 3; change that one/],
    [["issue", "set-state", "2", "closed"], /merged into issue 3/],
    [["issue", "set-state", "4", "todo"], /issue 4: it was converted into case 7/],
    [["issue", "set-state", "5", "in_progress"], /issue 5: it was split into 2 tickets/],
    [["issue", "set-state", "6", "todo"], /issue 6: closed cannot go to todo/],
    [["issue", "set-state", "3", "waiting", "--wait-type", "coffee"], /unknown wait type "coffee" \(one of more_info, third_party, internal, scheduled\)/],
    [["issue", "assign", "2", "--to", "gina"], /merged into issue 3/],
    [["issue", "assign", "3", "--to", " "], /--to must name someone/],
    [["issue", "assign", "99", "--to", "gina"], /no issue 99/, 66],
    [["issue", "create", "--kind", "action", "--parent", "3", "--email", "a@b.example"], /an action's parent must be a case, not a ticket/],
    [["issue", "create", "--kind", "action", "--email", "a@b.example"], /an action needs a parent case/],
    [["issue", "create", "--kind", "ticket", "--parent", "1", "--email", "a@b.example"], /a ticket's parent must be a ticket, not a case/],
    [["issue", "merge", "4", "--into", "3"], /issue 4: it was converted into case 7/],
    [["issue", "split", "2", "--into", "2"], /issue 2: it was merged into issue 3/],
    [["issue", "convert", "2"], /issue 2: it was merged into issue 3/],
    [["issue", "convert", "6"], /issue 6: closed cannot go to resolved/],
  ])("refuses %j", async (args, message, code = 64) => {
    const before = await admin(sb, "issue", "list", "--limit", "100");
    const r = await cli(sb, ...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    // Nothing changed.
    expect(await admin(sb, "issue", "list", "--limit", "100")).toEqual(before);
  });

  it("allowed changes go through: an action under a case, a case under a ticket, waiting for a known type", async () => {
    const action = await admin(sb, "issue", "create", "--kind", "action", "--parent", "1", "--email", "a@b.example");
    expect(action).toMatchObject({ kind: "action", parentId: 1 });
    const kase = await admin(sb, "issue", "create", "--kind", "case", "--parent", "3", "--email", "a@b.example");
    expect(kase).toMatchObject({ kind: "case", parentId: 3 });
    expect(await setState(sb, 3, "waiting", "third_party")).toMatchObject({ state: "waiting", waitType: "third_party" });
  });
});

describe("issue history", () => {
  it("admin commands record the OS user and what changed, from → to", async () => {
    const sb = configured();
    await createIssue(sb, "ticket", { subject: "Order 1042" });
    await setState(sb, 1, "waiting", "more_info");
    const assigned = await admin(sb, "issue", "assign", "1", "--to", "gina", "--queue", "vip");
    expect(assigned).toMatchObject({ assignee: "gina", queue: "vip", state: "waiting" });
    await setState(sb, 1, "waiting", "more_info"); // no change, no history
    const shown = await admin(sb, "issue", "show", "1");
    expect(changes(shown)).toEqual([
      [me, "created", null, "ticket in todo"],
      [me, "state", "todo", "waiting"],
      [me, "wait_type", null, "more_info"],
      [me, "queue", null, "vip"],
      [me, "assignee", null, "gina"],
    ]);
    expect(shown.history[1].at).toBe(shown.history[2].at);
    expect(Date.parse(shown.history[1].at)).not.toBeNaN();
    const text = await cli(sb, "issue", "show", "1");
    expect(text.stdout).toContain("history (5)");
    expect(text.stdout).toMatch(new RegExp(`${me}  state: todo → waiting`));
    expect(text.stdout).toMatch(new RegExp(`${me}  assignee: – → gina`));
  });

  it.skipIf(me !== "root")("as root under sudo, the person behind sudo", async () => {
    const sb = configured();
    sb.env.SUDO_USER = "alice";
    await createIssue(sb, "ticket");
    await setState(sb, 1, "in_progress");
    expect(changes(await admin(sb, "issue", "show", "1")).map((c: string[]) => c[0])).toEqual(["alice (sudo)", "alice (sudo)"]);
  });

  it("mail processing records the staged mail that reopened the issue and flagged new information", async () => {
    const sb = configured({ defaultRoute: { kind: "ticket", queue: "frontline", sendResponse: false } });
    const first = await feed(sb, readFixture("new-mail-opens-issue.eml"));
    await setState(sb, 1, "resolved");
    const reply = await feed(sb, readFixture("reply-to-resolved-ticket.eml"));
    expect(reply.issues[0]).toMatchObject({ issueId: 1, reopened: true, state: "todo" });
    const shown = await admin(sb, "issue", "show", "1");
    expect(changes(shown)).toEqual([
      [me, "state", "todo", "resolved"],
      [me, "new_info", "true", "false"],
      [`staged mail ${reply.stagedId}`, "state", "resolved", "todo"],
      [`staged mail ${reply.stagedId}`, "new_info", "false", "true"],
    ]);
    expect(first.stagedId).not.toBe(reply.stagedId);
  });

  it("merge, split and convert are kept on every issue they touch", async () => {
    const sb = configured();
    for (let i = 0; i < 3; i++) await createIssue(sb, "ticket", { subject: `T${i + 1}` });
    await admin(sb, "issue", "merge", "1", "--into", "2");
    await admin(sb, "issue", "split", "2", "--into", "2"); // 4, 5
    await admin(sb, "issue", "convert", "3"); // case 6
    const field = async (id: number) => changes(await admin(sb, "issue", "show", String(id))).filter((c: string[]) => c[1] !== "created" || id > 3);
    expect(await field(1)).toEqual([
      [me, "state", "todo", "closed"],
      [me, "merged_into", null, "2"],
    ]);
    expect(await field(2)).toEqual([
      [me, "merged_from", null, "1"],
      [me, "split_into", null, "4, 5"],
      [me, "state", "todo", "closed"],
    ]);
    expect(await field(4)).toEqual([[me, "created", null, "ticket split from issue 2"]]);
    expect(await field(3)).toEqual([
      [me, "state", "todo", "resolved"],
      [me, "converted_to", null, "6"],
    ]);
    expect(await field(6)).toEqual([[me, "converted_from", null, "3"]]);
  });
});

describe("issue show prints the whole conversation", () => {
  it("sender, time and full text of every action; mail's control characters escaped", async () => {
    const sb = configured();
    await feed(sb, readFixture("new-mail-opens-issue.eml"));
    const long = `${"word ".repeat(40)}END-OF-LONG-LINE`;
    const hostile = mail(
      { From: "Mallory \u001b[31mRed <alice@customer.example>", To: "service@example.test", Subject: "Re: [CS-000001] more" },
      `First line\n\u001b]0;owned\u0007second line \u202eevil\n${long}\n`,
    );
    await feed(sb, hostile);
    const shown = await admin(sb, "issue", "show", "1");
    expect(shown.actions.map((a: any) => [a.from, a.fromName, a.date])).toEqual([
      ["alice@customer.example", "Alice Smith", "2024-01-01T10:00:00.000Z"],
      ["alice@customer.example", "Alice Smith", "2024-01-01T10:00:00.000Z"],
    ]);
    const text = (await cli(sb, "issue", "show", "1")).stdout;
    expect(text).toContain("conversation (2)");
    expect(text).toContain("── 2024-01-01T10:00:00.000Z  Alice Smith <alice@customer.example>  action 1, staged 1");
    expect(text).toContain("    I ordered a kettle two weeks ago (order 1042) and it has not arrived.");
    expect(text).toContain(`    ${long}`); // not cut
    expect(text).toContain("    \\x1b]0;owned\\x07second line \\u202eevil");
    expect(text).not.toMatch(/[\u001b\u0007\u202e]/);
  });
});
