// The admin commands that set up and show work items (issue 3): what they write, what they refuse
// (with the exit code main.ts maps), and that their help reads.
import { readFileSync, writeFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { runAsync, type Sandbox } from "./helpers/cli.js";
import { admin, configured, createIssue, feed, fill, setState, showIssue } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");

describe("issue create, set-state, show, list", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = configured({ referencePrefix: "HD-" });
    await createIssue(sb, "case", { subject: "Printer on fire" });
    await createIssue(sb, "action", { parent: 1, subject: "Ask for the model" });
    await setState(sb, 2, "waiting", "more_info");
  });

  it("create gives a guid, a reference with the configured prefix, state todo and the customer", async () => {
    const made = await createIssue(sb, "ticket", { email: "Bob@Customer.example", subject: "Hello" });
    expect(made).toMatchObject({ id: 3, reference: "HD-000003", kind: "ticket", state: "todo", newInfo: false, parentId: null, subject: "Hello" });
    expect(made.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const shown = await showIssue(sb, 3);
    expect(shown).toMatchObject({ customerEmail: "bob@customer.example", participants: ["bob@customer.example"], actions: [] });
    // The same address again is the same identification (domain.md §2 Case 2).
    const again = await createIssue(sb, "ticket", { email: "bob@customer.example" });
    expect(again.userIdentificationId).toBe(made.userIdentificationId);
    const byId = await admin(sb, "issue", "create", "--kind", "ticket", "--user-identification", String(made.userIdentificationId));
    expect(byId.userIdentificationId).toBe(made.userIdentificationId);
  });

  it("set-state records the wait type and clears it otherwise", async () => {
    const waiting = await admin(sb, "issue", "show", "2");
    expect(waiting).toMatchObject({ kind: "action", parentId: 1, state: "waiting", waitType: "more_info" });
    const made = await createIssue(sb, "ticket");
    const resolved = await setState(sb, made.id, "resolved");
    expect(resolved).toMatchObject({ state: "resolved", waitType: null, newInfo: false });
    expect(resolved.closedDate).toEqual(expect.any(String));
    const back = await setState(sb, made.id, "in_progress");
    expect(back).toMatchObject({ state: "in_progress", closedDate: null });
  });

  it("list --state filters; the text forms read", async () => {
    const listed = await admin(sb, "issue", "list", "--state", "waiting");
    expect(listed.issues.map((i: any) => i.reference)).toEqual(["HD-000002"]);
    const text = await cli(sb, "issue", "list", "--state", "waiting");
    expect(text.stdout).toMatch(/^ID\s+REFERENCE\s+KIND\s+STATE/);
    expect(text.stdout).toContain("waiting/more_info");
    const show = await cli(sb, "issue", "show", "2");
    expect(show.stdout).toContain("issue 2 HD-000002 action [waiting/more_info]: Ask for the model");
    expect(show.stdout).toMatch(/parent\s+1/);
    const none = await cli(sb, "issue", "list", "--state", "draft");
    expect(none.stdout).toBe("no issues\n");
  });

  it.each([
    [["issue", "create", "--kind", "ticket"], 64, /exactly one of --email or --user-identification/],
    [["issue", "create", "--kind", "ticket", "--email", "a@b", "--user-identification", "1"], 64, /exactly one/],
    [["issue", "create", "--kind", "widget", "--email", "a@b"], 64, /Allowed choices are ticket, case, action/],
    [["issue", "create", "--kind", "action", "--parent", "99", "--email", "a@b"], 66, /no issue 99/],
    [["issue", "create", "--kind", "ticket", "--user-identification", "99"], 66, /no user identification 99/],
    [["issue", "show", "99"], 66, /no issue 99/],
    [["issue", "show", "a b"], 64, /id is an issue id \(12\) or reference \(CS-000012\), got "a b"/],
    [["issue", "show", "HD-000099"], 66, /no issue HD-000099/],
    [["issue", "set-state", "--", "-1", "todo"], 64, /id is an issue id/],
    [["issue", "merge", "3", "--into", "hd-000003"], 64, /cannot be merged into itself/],
    [["issue", "set-state", "99", "todo"], 66, /no issue 99/],
    [["issue", "set-state", "1", "done"], 64, /Allowed choices are draft, todo/],
    [["issue", "set-state", "1", "todo", "--wait-type", "more_info"], 64, /--wait-type goes with state waiting/],
    [["issue", "set-state", "2", "resolved"], 64, /only tickets and cases can be resolved/],
    [["issue", "merge", "1", "--into", "3"], 64, /issue 1 is a case; only tickets can be merged/],
    [["issue", "merge", "3", "--into", "3"], 64, /cannot be merged into itself/],
    [["issue", "merge", "3"], 64, /required option '--into <target>'/],
    [["issue", "split", "3", "--into", "1"], 64, /--into must be from 2 to 50/],
    // A typo of --into 100000 made that many tickets (and 1e20 spun until killed).
    [["issue", "split", "3", "--into", "51"], 64, /--into must be from 2 to 50/],
    [["issue", "split", "3", "--into", "99999999999999999999"], 64, /--into/],
    [["issue", "create", "--kind", "ticket", "--email", "notanemail"], 64, /--email "notanemail" is not an email address/],
    [["issue", "create", "--kind", "ticket", "--email", ""], 64, /--email "" is not an email address/],
    [["issue", "split", "1", "--into", "2"], 64, /issue 1 is a case; only tickets can be split/],
    [["issue", "convert", "1"], 64, /issue 1 is a case; only tickets can be converted/],
    [["issue", "convert", "99"], 66, /no issue 99/],
    [["user", "add", "--email", "not-an-address"], 64, /is not an email address/],
    // Past 2^53 a number read from text is another number; past 64 bits it was the driver's "datatype mismatch" (70).
    [["show", "99999999999999999999"], 64, /stagedId must be at most 9007199254740991, got 99999999999999999999/],
    [["list", "--limit", "9223372036854775808"], 64, /--limit must be at most 9007199254740991/],
    [["recover", "--older-than", "99999999999999999999"], 64, /--older-than must be at most 5270400/],
    [["list", "--since", "2026-02-30"], 64, /--since takes an age .* or a date .*, got "2026-02-30"/],
    [["user", "add", "--email", "x@y.example", "--account", "99"], 66, /no account 99/],
    [["account", "add", "--name", " ", "--support-level", "gold"], 64, /must not be empty/],
  ])("refuses %j (exit %i)", async (args, code, message) => {
    const r = await cli(sb, ...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});

describe("merge, split, convert guard their links", () => {
  it("a ticket cannot be merged twice, into a merged ticket, split twice or converted twice", async () => {
    const sb = configured();
    for (let i = 0; i < 4; i++) await createIssue(sb, "ticket", { subject: `T${i + 1}` });
    await admin(sb, "issue", "merge", "1", "--into", "2");
    expect((await cli(sb, "issue", "merge", "1", "--into", "3")).stderr).toMatch(/issue 1 was already merged into 2/);
    expect((await cli(sb, "issue", "merge", "3", "--into", "1")).stderr).toMatch(/issue 1 was itself merged into 2; merge into that one/);
    // Merging again into the same target is harmless.
    expect((await cli(sb, "issue", "merge", "1", "--into", "2")).code).toBe(0);

    const split = await admin(sb, "issue", "split", "3", "--into", "3");
    expect(split.children.map((c: any) => [c.reference, c.splitFromId, c.subject])).toEqual([
      ["CS-000005", 3, "T3 (1/3)"],
      ["CS-000006", 3, "T3 (2/3)"],
      ["CS-000007", 3, "T3 (3/3)"],
    ]);
    expect((await cli(sb, "issue", "split", "3", "--into", "2")).stderr).toMatch(/already part of a split/);
    expect((await cli(sb, "issue", "split", "5", "--into", "2")).stderr).toMatch(/already part of a split/);
    expect((await showIssue(sb, 3)).splitChildren).toEqual([5, 6, 7]);

    await admin(sb, "issue", "convert", "4");
    expect((await cli(sb, "issue", "convert", "4")).stderr).toMatch(/issue 4 was already converted into 8/);
    // README: a merged, converted or split ticket stays as it is, as a merge target too.
    await createIssue(sb, "ticket", { subject: "T9" });
    for (const [target, message] of [
      ["4", /issue 4 was converted into 8; merge into that one/],
      ["3", /issue 3 was split into 5, 6, 7; merge into one of those/],
    ] as const) {
      const r = await cli(sb, "issue", "merge", "9", "--into", target);
      expect([r.code, r.stderr]).toEqual([64, expect.stringMatching(message)]);
    }
    expect((await showIssue(sb, 9)).mergedIntoId).toBeNull();
  });

  it("every issue argument takes the reference the summaries print, as well as the id", async () => {
    const sb = configured({ referencePrefix: "HD-" });
    await createIssue(sb, "case", { subject: "Printer on fire" });
    // --parent by reference, any case.
    const action = await admin(sb, "issue", "create", "--kind", "action", "--parent", "hd-000001", "--email", "a@customer.example");
    expect(action).toMatchObject({ id: 2, parentId: 1, reference: "HD-000002" });
    expect(await admin(sb, "issue", "show", "HD-000002")).toMatchObject({ id: 2, kind: "action", parentId: 1 });
    expect(await admin(sb, "issue", "set-state", "HD-000002", "waiting", "--wait-type", "more_info")).toMatchObject({ id: 2, state: "waiting", waitType: "more_info" });
    expect(await admin(sb, "issue", "assign", "Hd-000001", "--to", "gina", "--queue", "hardware")).toMatchObject({ id: 1, assignee: "gina", queue: "hardware" });
    for (let i = 0; i < 3; i++) await createIssue(sb, "ticket", { subject: `T${i + 3}` });
    // Ids and references mixed; the target named both ways is refused.
    expect((await cli(sb, "issue", "merge", "HD-000003", "4", "--into", "HD-000004")).stderr).toMatch(/cannot be merged into itself/);
    const merged = await admin(sb, "issue", "merge", "HD-000003", "4", "--into", "HD-000005");
    expect(merged).toMatchObject({ target: 5, merged: [{ id: 3, mergedIntoId: 5 }, { id: 4, mergedIntoId: 5 }] });
    expect((await admin(sb, "issue", "split", "HD-000005", "--into", "2")).original).toBe(5);
    expect((await cli(sb, "issue", "convert", "HD-000006")).stdout).toBe("converted HD-000006 into case HD-000008\n");
    // A reference made under an earlier prefix is still found as stored.
    const file = sb.env.INGEST_MAIL_CONFIG!;
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), referencePrefix: "CS-" }));
    expect((await createIssue(sb, "ticket")).reference).toBe("CS-000009");
    expect(await admin(sb, "issue", "show", "HD-000001")).toMatchObject({ id: 1, assignee: "gina" });
    expect(await admin(sb, "issue", "show", "cs-000009")).toMatchObject({ id: 9 });
  });

  it("the text outputs name what happened", async () => {
    const sb = configured();
    for (let i = 0; i < 3; i++) await createIssue(sb, "ticket");
    expect((await cli(sb, "issue", "merge", "1", "--into", "2")).stdout).toBe("merged CS-000001 into issue 2\n");
    expect((await cli(sb, "issue", "split", "2", "--into", "2")).stdout).toBe("split issue 2 into CS-000004, CS-000005\n");
    expect((await cli(sb, "issue", "convert", "3")).stdout).toBe("converted CS-000003 into case CS-000006\n");
  });

  it("issue show lists the actions a mail left", async () => {
    const sb = configured();
    await createIssue(sb, "ticket", { subject: "My order 1042 has not arrived" });
    const out = await feed(sb, fill("reply-matched-by-subject-reference.eml"));
    const shown = await showIssue(sb, 1);
    expect(shown.actions).toEqual([expect.objectContaining({ id: out.actionIds[0], stagedMailId: out.stagedId, details: "Still waiting for it.\n" })]);
    expect(shown.newInfo).toBe(true);
  });
});

describe("--help", () => {
  it.each([
    [["issue", "--help"], ["show", "list", "create", "set-state", "merge", "split", "convert"]],
    [["issue", "create", "--help"], ["--kind <kind>", "(required)", "--email <addr>", "--user-identification <id>", "--parent <id>"]],
    [["issue", "set-state", "--help"], ["<id> <state>", "more_info means a reply moves it back to todo", '"in_progress"']],
    [["issue", "merge", "--help"], ["<ids...>", "--into <target>", "lands on the target"]],
    [["issue", "split", "--help"], ["--into <n>", "2 to 50", "lands on every child"]],
    [["issue", "convert", "--help"], ["<ticketId>", "lands on the case"]],
    [["account", "add", "--help"], ["--name <name>", "--support-level <level>"]],
    [["user", "add", "--help"], ["--email <addr>", "--name <name>", "--account <id>"]],
  ])("%j names its arguments and options", async (args, words) => {
    const r = await cli(configured(), ...args);
    expect(r.code).toBe(0);
    const flat = r.stdout.replace(/\s+/g, " "); // help wraps at the terminal width
    for (const w of words) expect(flat).toContain(w);
    expect(r.stdout).not.toMatch(/domain\.md/);
  });
});
