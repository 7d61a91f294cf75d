// domain.md §5 end to end: the route of the support address gives kind and queue; the first
// assignment rule that matches (account support level, address, subject) gives the assignee.
import { describe, expect, it } from "vitest";
import { db, rows } from "./helpers/cli.js";
import { admin, configured, feed, fill } from "./helpers/setup.js";

const config = {
  supportAddresses: ["service@example.test", "billing@example.test", "help@example.test"],
  routes: [{ address: "billing@example.test", kind: "case", queue: "billing", sendResponse: false }],
  defaultRoute: { kind: "ticket", queue: "general", sendResponse: false },
  assignment: [
    { when: { supportLevel: "gold", address: "billing@example.test" }, assignee: "gina", queue: "vip-billing" },
    { when: { supportLevel: "gold" }, assignee: "gold-desk", queue: "vip" },
    { when: { address: "billing@example.test" }, assignee: "bill" },
    { when: { subjectMatches: "\\brefund\\b" }, assignee: "rita", queue: "refunds" },
  ],
};

const issue = (sb: ReturnType<typeof configured>, id: number) =>
  rows(db(sb), `SELECT kind, state, queue, assignee, new_info AS "newInfo", recipient FROM issues WHERE id = ?`, id)[0];
const step = (out: any, name: string) => out.trace.filter((t: any) => t.step === name).map((t: any) => [t.decision, t.reason]);

async function goldCustomer(sb: ReturnType<typeof configured>) {
  const account = await admin(sb, "account", "add", "--name", "Big Corp", "--support-level", "gold");
  expect(account).toMatchObject({ name: "Big Corp", supportLevel: "gold" });
  const user = await admin(sb, "user", "add", "--email", "Gina@BigCorp.example", "--name", "Gina Gold", "--account", String(account.id));
  expect(user).toMatchObject({ email: "gina@bigcorp.example", firstNames: "Gina", lastName: "Gold", accountId: account.id });
  return user;
}

describe("routes by support address", () => {
  it("new-mail-to-billing-route.eml: a case in the billing queue; the address rule assigns it", async () => {
    const sb = configured(config);
    const out = await feed(sb, fill("new-mail-to-billing-route.eml"));
    expect(out.issues).toEqual([{ issueId: 1, reference: "CS-000001", created: true, reopened: false, matchedBy: null, state: "todo" }]);
    expect(issue(sb, 1)).toEqual({ kind: "case", state: "todo", queue: "billing", assignee: "bill", newInfo: 1, recipient: "billing@example.test" });
    expect(step(out, "route")).toEqual([["new case CS-000001", "route for billing@example.test"]]);
    expect(step(out, "assign")).toEqual([["assignee bill", "assignment rule 3 matched"]]);
  });

  it("new-mail-to-default-route.eml: a support address without a route takes the default route", async () => {
    const sb = configured(config);
    const out = await feed(sb, fill("new-mail-to-default-route.eml"));
    expect(out.issues[0]).toMatchObject({ created: true, matchedBy: null });
    expect(issue(sb, 1)).toEqual({ kind: "ticket", state: "todo", queue: "general", assignee: null, newInfo: 1, recipient: "help@example.test" });
    expect(step(out, "route")).toEqual([["new ticket CS-000001", "default route"]]);
    expect(step(out, "assign")).toEqual([]);
  });

  it("the envelope recipient decides the route, not the To header", async () => {
    const sb = configured(config);
    await feed(sb, fill("new-mail-to-billing-route.eml"), ["--recipient", "service@example.test"]);
    expect(issue(sb, 1)).toMatchObject({ kind: "ticket", queue: "general", assignee: null, recipient: "service@example.test" });
  });
});

describe("assignment: the first matching rule wins", () => {
  it("new-mail-from-gold-account.eml: gold customer to billing → the gold+billing rule, listed first, with its queue", async () => {
    const sb = configured(config);
    const user = await goldCustomer(sb);
    const out = await feed(sb, fill("new-mail-from-gold-account.eml"));
    expect(issue(sb, 1)).toMatchObject({ kind: "case", queue: "vip-billing", assignee: "gina" });
    expect(step(out, "assign")).toEqual([["assignee gina", "assignment rule 1 matched"]]);
    expect(rows(db(sb), `SELECT user_id AS "userId" FROM user_identifications WHERE id = ?`, out.userIdentificationId)).toEqual([{ userId: user.id }]);
  });

  it("the gold customer to another address → the support level rule", async () => {
    const sb = configured(config);
    await goldCustomer(sb);
    const out = await feed(sb, fill("new-mail-from-gold-account.eml"), ["--recipient", "service@example.test"]);
    expect(issue(sb, 1)).toMatchObject({ kind: "ticket", queue: "vip", assignee: "gold-desk" });
    expect(step(out, "assign")).toEqual([["assignee gold-desk", "assignment rule 2 matched"]]);
  });

  it("the same mail from someone without an account → the subject rule", async () => {
    const sb = configured(config);
    const out = await feed(sb, fill("new-mail-from-gold-account.eml"), ["--recipient", "service@example.test"]);
    expect(issue(sb, 1)).toMatchObject({ queue: "refunds", assignee: "rita" });
    expect(step(out, "assign")).toEqual([["assignee rita", "assignment rule 4 matched"]]);
  });

  it("new-mail-subject-assignment.eml: the subject rule overrides the route's queue", async () => {
    const sb = configured(config);
    const out = await feed(sb, fill("new-mail-subject-assignment.eml"));
    expect(issue(sb, 1)).toEqual({ kind: "ticket", state: "todo", queue: "refunds", assignee: "rita", newInfo: 1, recipient: "service@example.test" });
    expect(step(out, "assign")).toEqual([["assignee rita", "assignment rule 4 matched"]]);
  });
});
