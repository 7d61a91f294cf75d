// Issue 14 point 4: the admin lists take --limit, --since, --from and --search and say "N of M shown";
// user list and account list. Mail text in the tables is terminal-safe.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { db, mail, runAsync, type Sandbox } from "./helpers/cli.js";
import { admin, configured, feed } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");

describe("list, issue list, outbox list", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = configured((dir) => ({
      defaultRoute: { kind: "ticket", sendResponse: true },
      outbound: { transport: "file", dir: join(dir, "outbox"), from: "service@example.test" },
    }));
    const send = (from: string, subject: string, body = "Hello.\n") => feed(sb, mail({ From: from, To: "service@example.test", Subject: subject }, body));
    await send("Bob Brown <bob@bobs.example>", "Kettle broken"); // staged 1, issue 1
    await send("carol@carol.example", "Invoice question", "Where is my kettle?\n"); // 2
    await send("dave@dave.example", "100%_off coupon"); // 3
    await send("erin@erin.example", "100 percent off"); // 4
    await send("bob@bobs.example", "Second from Bob"); // 5
    await send("mallory@evil.example", "Evil \u001b[2J subject"); // 6
    // Two of them are old.
    const d = db(sb);
    d.run(`UPDATE staged_mails SET received_at = '2020-01-01T00:00:00.000Z' WHERE id IN (1, 2)`);
    d.run(`UPDATE issues SET updated_at = '2020-01-01T00:00:00.000Z' WHERE id IN (1, 2)`);
    d.run(`UPDATE outbound_mails SET created_at = '2020-01-01T00:00:00.000Z' WHERE issue_id IN (1, 2)`);
    d.close();
  });

  const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

  it.each([
    [[], [6, 5, 4, 3, 2, 1], 6],
    [["--limit", "2"], [6, 5], 6],
    [["--from", "BOB"], [5, 1], 2],
    [["--from", "Bob Brown"], [1], 1],
    [["--search", "kettle"], [2, 1], 2], // subject of 1, text of 2
    [["--search", "100%_"], [3], 1], // LIKE's wildcards taken literally
    [["--since", "7d"], [6, 5, 4, 3], 4],
    [["--since", "2019-12-31"], [6, 5, 4, 3, 2, 1], 6],
    [["--since", "7d", "--from", "bob", "--limit", "1"], [5], 1],
  ])("list %j", async (args, want, total) => {
    const r = await admin(sb, "list", ...args);
    expect(ids(r.staged)).toEqual(want);
    expect(r.total).toBe(total);
    expect(r.shown).toBe(want.length);
  });

  it.each([
    [["--limit", "3"], [6, 5, 4], 6],
    [["--from", "bobs.example"], [5, 1], 2],
    [["--search", "cs-000003"], [3], 1],
    [["--search", "invoice"], [2], 1],
    [["--since", "7d"], [6, 5, 4, 3], 4],
  ])("issue list %j", async (args, want, total) => {
    const r = await admin(sb, "issue", "list", ...args);
    expect(ids(r.issues)).toEqual(want);
    expect(r).toMatchObject({ total, shown: want.length });
  });

  it.each([
    [["--limit", "1"], ["mallory@evil.example"], 6],
    [["--from", "carol"], ["carol@carol.example"], 1],
    [["--search", "coupon"], ["dave@dave.example"], 1],
    [["--since", "7d", "--from", "bob"], ["bob@bobs.example"], 1],
  ])("outbox list %j", async (args, want, total) => {
    const r = await admin(sb, "outbox", "list", ...args);
    expect(r.outbound.map((o: any) => o.toAddress)).toEqual(want);
    expect(r).toMatchObject({ total, shown: want.length });
  });

  it("the text forms say N of M shown and escape mail's control characters", async () => {
    for (const args of [["list"], ["issue", "list"], ["outbox", "list"]]) {
      const r = await cli(sb, ...args, "--limit", "4");
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("4 of 6 shown");
      expect(r.stdout).not.toContain("\u001b");
    }
    expect((await cli(sb, "list")).stdout).toContain("Evil \\x1b[2J subject");
    expect((await cli(sb, "issue", "list", "--from", "nobody")).stdout).toBe("no issues\n");
  });

  it.each([
    [["list", "--since", "yesterday"], /--since takes an age \(180d, 12h, 30m, 2w\) or a date/],
    [["issue", "list", "--limit", "0"], /--limit must be at least 1/],
    [["outbox", "list", "--limit", "x"], /--limit must be a whole number/],
  ])("refuses %j", async (args, message) => {
    const r = await cli(sb, ...args);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
  });
});

describe("user list, account list", () => {
  it("lists users with their account and identifications, and accounts with their users", async () => {
    const sb = configured();
    expect((await cli(sb, "user", "list")).stdout).toBe("no users\n");
    expect(await admin(sb, "account", "list")).toEqual({ accounts: [] });
    const acme = await admin(sb, "account", "add", "--name", "Acme", "--support-level", "gold");
    await admin(sb, "account", "add", "--name", "Empty", "--support-level", "bronze");
    await admin(sb, "user", "add", "--email", "ada@acme.example", "--name", "Ada Lovelace", "--account", String(acme.id));
    await admin(sb, "user", "add", "--email", "bob@else.example");
    await feed(sb, mail({ From: "ada@acme.example", To: "service@example.test", Subject: "Hi" }));
    const users = await admin(sb, "user", "list");
    expect(users.users.map((u: any) => [u.id, u.email, u.firstNames, u.lastName, u.accountId, u.accountName, u.identifications])).toEqual([
      [1, "ada@acme.example", "Ada", "Lovelace", 1, "Acme", 1],
      [2, "bob@else.example", null, null, null, null, 0],
    ]);
    const accounts = await admin(sb, "account", "list");
    expect(accounts.accounts).toEqual([
      { id: 1, name: "Acme", supportLevel: "gold", users: 1 },
      { id: 2, name: "Empty", supportLevel: "bronze", users: 0 },
    ]);
    const text = await cli(sb, "user", "list");
    expect(text.stdout).toMatch(/^ID\s+EMAIL\s+NAME\s+ACCOUNT\s+IDENTIFICATIONS\s+CREATED\n1\s+ada@acme\.example\s+Ada Lovelace\s+1 Acme\s+1\s+/);
    expect((await cli(sb, "account", "list")).stdout).toMatch(/^ID\s+NAME\s+SUPPORT LEVEL\s+USERS\n1\s+Acme\s+gold\s+1\n2\s+Empty\s+bronze\s+0\n$/);
  });
});
