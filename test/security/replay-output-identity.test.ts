// Issue 10, points 8, 10 and 12: import replays quietly and counts the flood limit by the mail's own
// Date; human output cannot drive the terminal; one customer keeps one identity. Through the binary.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { count, db, readFixture, rows, run } from "../helpers/cli.js";
import { admin, feed } from "../helpers/setup.js";
import { desk, letter } from "./support.js";

function mbox(texts: string[]): string {
  return texts.map((t) => `From sender@customer.example Mon Jan  1 10:00:00 2019\n${t.replace(/^(>*From )/gm, ">$1")}\n`).join("");
}

/** 30 old mails from one customer, one a day through 2019. */
const oldMails = (n = 30, dayMs = 86_400_000) =>
  Array.from({ length: n }, (_, i) => letter({ From: "dora@customer.example", Subject: `Old question ${i}`, "Message-ID": `<old-${i}@customer.example>`, Date: new Date(Date.UTC(2019, 0, 1) + i * dayMs).toUTCString() }));

describe("replay is quiet (point 8)", () => {
  it("import of an old mbox sends no confirmations and holds none of 30 mails spread over a month", () => {
    const d = desk({ flood: { maxNewIssues: 3, windowMinutes: 60 } });
    const file = join(d.dir, "2019.mbox");
    writeFileSync(file, mbox(oldMails()));
    const r = run(d, ["import", file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().counts).toEqual({ complete: 30 });
    expect(d.emls()).toEqual([]);
    const c = db(d);
    expect(count(c, "outbound_mails")).toBe(0);
    const trace = JSON.parse(rows(c, "SELECT trace FROM staged_mails WHERE id = 1")[0].trace);
    expect(trace).toContainEqual({ step: "confirm", decision: "no confirmation for CS-000001", reason: "replayed by import (confirmations only with --send-confirmations)" });
    c.close();
  });

  it("the flood limit counts the mails' own Dates: five within an hour hold the fourth and fifth", () => {
    const d = desk({ flood: { maxNewIssues: 3, windowMinutes: 60 } });
    const file = join(d.dir, "burst.mbox");
    writeFileSync(file, mbox(oldMails(5, 60_000)));
    const r = run(d, ["import", file, "--json"]);
    expect(r.json().counts).toEqual({ complete: 3, held: 2 });
    // Live mail from the same sender today is not held by that old burst.
    expect(run(d, ["--json"], letter({ From: "dora@customer.example", Subject: "today" })).json().status).toBe("complete");
  });

  it("--send-confirmations sends them", () => {
    const d = desk();
    const file = join(d.dir, "two.mbox");
    writeFileSync(file, mbox(oldMails(2).map((m, i) => m.replace("dora@", `dora${i}@`))));
    const r = run(d, ["import", file, "--send-confirmations", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(d.emls()).toHaveLength(2);
  });
});

describe("terminal-safe output (point 10)", () => {
  it("list, show and issue show print escapes from mail as visible text; --json keeps them", async () => {
    const d = desk();
    const out = await feed(d, readFixture("terminal-escapes-in-mail.eml"));
    expect(out.status).toBe("complete");
    const printed = [run(d, ["list"]), run(d, ["show", String(out.stagedId)]), run(d, ["issue", "show", "1"]), run(d, ["issue", "list"]), run(d, ["outbox", "list"])];
    for (const p of printed) {
      expect(p.code, p.stderr).toBe(0);
      expect(p.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(printed[0].stdout).toContain("Hello \\x1b[2J\\x1b[31mred\\x1b[0m \\u202egnp.exe");
    expect(printed[1].stdout).toContain("subject        Hello \\x1b[2J\\x1b[31mred\\x1b[0m \\u202egnp.exe");
    // The display name's OSC 8 hyperlink lost its ESC/BEL already in the address parser.
    expect(printed[1].stdout).toContain("from           Eve ]8;;http://evil.example/Click]8;; <eve@customer.example>");
    expect(printed[2].stdout).toContain("See \\x1b[2J attached.");
    // The attachment's name lost its bidi override when it was stored.
    expect(printed[1].stdout).toMatch(/invoicefdp\.exe/);
    const json = run(d, ["show", String(out.stagedId), "--json"]).json();
    expect(json.subject).toBe("Hello \u001b[2J\u001b[31mred\u001b[0m \u202egnp.exe");
    expect(json.attachments[0].filename).toBe("invoicefdp.exe");
    // And the confirmation's Subject carries none of it.
    const m = await d.readEml(d.emls()[0]);
    expect(m.subject).toBe("[CS-000001] Re: Hello [2J [31mred [0m gnp.exe");
  });

  it("an error message shows what it quotes with its controls escaped: commander's, the entry's, with or without a mail", () => {
    const d = desk();
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
    const cases = [
      { args: ["issue", "show", "CS\u001b[31mX"], stdin: "", code: 64, shows: "CS\\x1b[31mX" },
      { args: ["list", "--status", "x\u001b[2J"], stdin: "", code: 64, shows: "x\\x1b[2J" },
      { args: ["lsit\u001b]0;owned\u0007"], stdin: "", code: 64, shows: 'unknown command "lsit\\x1b]0;owned\\x07"' },
      // With a message on stdin the same mistyped word is 75 (the MTA retries), and its line too is one line.
      { args: ["lsit\nforged log line"], stdin: letter({ Subject: "hello" }), code: 75, shows: 'unknown command "lsit\\x0aforged log line"' },
    ];
    for (const c of cases) {
      const r = run(d, c.args, c.stdin);
      expect(r.code, r.stderr).toBe(c.code);
      expect(r.stderr).toContain(c.shows);
      for (const line of r.stderr.split("\n")) expect(line).not.toMatch(raw);
    }
  });

  // README: "the one stderr line names the cause". commander wrote "error: …" and then the whole help
  // (24 lines in an MTA's log for one mistyped option).
  it.each([
    [["--bogus"], "letter", 75, "ingest-mail: unknown option '--bogus' (--help shows the usage) (not stored: the MTA keeps the mail and retries)\n"],
    [["--recipient"], "letter", 75, "ingest-mail: option '--recipient <addr>' argument missing (--help shows the usage) (not stored: the MTA keeps the mail and retries)\n"],
    [["list", "--bogus"], "", 64, "ingest-mail: unknown option '--bogus' (--help shows the usage)\n"],
    [["list", "--limit", "x"], "", 64, 'ingest-mail: option \'--limit <n>\' argument \'x\' is invalid. --limit must be a whole number, got "x" (--help shows the usage)\n'],
  ])("%j: one line naming the cause, exit %i", (args, stdin, code, line) => {
    const r = run(desk(), args, stdin === "letter" ? letter({ Subject: "hello" }) : "");
    expect([r.code, r.stderr]).toEqual([code, line]);
  });

  it("a command group with no subcommand (`ingest-mail issue`) shows its help on stderr and exits 64, so a script's step that did nothing fails", () => {
    for (const group of ["issue", "outbox", "config", "user"]) {
      const r = run(desk(), [group]);
      expect([r.code, r.stdout]).toEqual([64, ""]);
      expect(r.stderr).toContain(`Usage: ingest-mail ${group} [options] [command]`);
    }
    expect(run(desk(), ["issue", "--help"]).code).toBe(0);
  });
});

describe("one customer, one identity (point 12)", () => {
  it("user add links the earliest identification with that address, so her next mail continues it", async () => {
    const d = desk();
    const first = await feed(d, letter({ From: "Dora Jones <dora@customer.example>", Subject: "first" }));
    await feed(d, letter({ From: "dora@customer.example", Subject: "second" }));
    const r = run(d, ["user", "add", "--email", "Dora@Customer.example", "--name", "Dora Jones"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`user 1: dora@customer.example (Dora Jones); linked identification ${first.userIdentificationId} (earlier mail from dora@customer.example)\n`);
    const next = await feed(d, letter({ From: "dora@customer.example", Subject: "third" }));
    expect(next.userIdentificationId).toBe(first.userIdentificationId);
    const c = db(d);
    expect(count(c, "user_identifications")).toBe(1);
    c.close();
  });

  it("user link attaches another identification and says so; JSON names it", async () => {
    const d = desk();
    await admin(d, "user", "add", "--email", "dora@customer.example");
    const other = await feed(d, letter({ From: "dora.private@home.example", Subject: "from home" }));
    const r = run(d, ["user", "link", "1", "--identification", String(other.userIdentificationId)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`linked identification ${other.userIdentificationId} (dora.private@home.example) to user 1\n`);
    expect(rows(db(d), "SELECT user_id FROM user_identifications WHERE id = ?", other.userIdentificationId)).toEqual([{ user_id: 1 }]);
    const again = run(d, ["user", "link", "1", "--identification", String(other.userIdentificationId), "--json"]);
    expect(again.json()).toEqual({ userId: 1, linkedIdentificationId: other.userIdentificationId, email: "dora.private@home.example" });
    expect(run(d, ["user", "link", "7", "--identification", "1"]).code).toBe(66);
  });
});
