// issue 13 point 1 end to end: each action keeps the mail's full text (details) and its new text
// (replyText); `issue show` prints the new text, `--full` all of it, `--json` both.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { db, rows, runAsync, type Sandbox } from "./helpers/cli.js";
import { configured, createIssue, feed, fill, showIssue } from "./helpers/setup.js";
import { startConsole } from "./helpers/web.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");

describe("the new text of a reply is kept beside the full text", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = configured();
    await createIssue(sb, "ticket", { subject: "My order 1042 has not arrived" });
  });

  it.each([
    [
      "reply-new-text-gmail-quote-and-signature.eml",
      "Thanks, the parcel arrived this morning.\nOne box was damaged though.",
      ["your order 1042 was shipped", "wrote:", "Customer Ltd."],
    ],
    ["reply-new-text-outlook-german-html.eml", "Guten Tag,\n\nanbei die gewünschten Unterlagen.\n\nMit freundlichen Grüßen\nAlice Schmidt", ["Gesendet:", "bitte senden Sie uns"]],
    [
      "reply-new-text-forward-keeps-forwarded-content.eml",
      "The courier says the address was wrong. It is correct though.\n\nDear customer,\n\nwe could not deliver parcel 00340434161094012345: address not found.",
      ["Forwarded message", "From: Courier", "Subject: Delivery failed"],
    ],
    ["reply-new-text-html-only-blockquote.eml", "Yes, please send a new one.", ["Shall we send a replacement?", "wrote:"]],
  ])("%s", async (file, newText, onlyInFull) => {
    const out = await feed(sb, fill(file));
    expect(out.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "subject-reference" })]);

    const [stored] = rows(db(sb), `SELECT details, reply_text AS "replyText" FROM actions WHERE id = ?`, out.actionIds[0]);
    expect(stored.replyText).toBe(newText);
    for (const s of onlyInFull) {
      expect(stored.details).toContain(s);
      expect(stored.replyText).not.toContain(s);
    }

    const shown = await showIssue(sb, 1);
    expect(shown.actions).toEqual([expect.objectContaining({ id: out.actionIds[0], details: stored.details, replyText: newText })]);

    const text = (await cli(sb, "issue", "show", "1")).stdout;
    for (const l of newText.split("\n").filter(Boolean)) expect(text).toContain(l);
    for (const s of onlyInFull) expect(text).not.toContain(s);
    const full = (await cli(sb, "issue", "show", "1", "--full")).stdout;
    for (const s of onlyInFull) expect(full).toContain(s);
  });

  it("a first mail with nothing quoted keeps all its text as the new text", async () => {
    const out = await feed(sb, fill("new-mail-opens-issue.eml"));
    const shown = await showIssue(sb, out.issues[0].issueId);
    expect(shown.actions[0].replyText).toBe("Hello,\n\nI ordered a kettle two weeks ago (order 1042) and it has not arrived.\n\nAlice");
    expect(shown.actions[0].details.trim()).toBe(shown.actions[0].replyText);
    // Issue 9.3, the text body stored once: the action does not hold it a second time.
    const [stored] = rows(db(sb), `SELECT details, reply_text AS "replyText" FROM actions WHERE id = ?`, out.actionIds[0]);
    expect(stored).toEqual({ details: shown.actions[0].details, replyText: "" });
    expect((await cli(sb, "issue", "show", String(out.issues[0].issueId))).stdout).toContain("I ordered a kettle two weeks ago (order 1042) and it has not arrived.");
    const web = await startConsole(sb);
    try {
      const html = await (await fetch(`${web.url}/issues/${out.issues[0].issueId}`)).text();
      expect(html).toContain("<pre>Hello,\n\nI ordered a kettle two weeks ago (order 1042) and it has not arrived.");
      expect(html).not.toContain("<summary>Whole mail</summary>");
    } finally {
      await web.stop();
    }
  });

  it("control characters and bidi overrides in the text are shown escaped, never sent to the terminal", async () => {
    const out = await feed(sb, fill("reply-new-text-with-terminal-escapes.eml"));
    const shown = await showIssue(sb, 1);
    expect(shown.actions[0].replyText).toContain("\u001b]0;owned"); // stored as received
    for (const args of [["issue", "show", "1"], ["issue", "show", "1", "--full"]]) {
      const text = (await cli(sb, ...args)).stdout;
      expect(text).toContain(`staged ${out.stagedId}`);
      expect(text).toContain("\\x1b]0;owned\\x07\\x1b[2Jcleared");
      expect(text).toContain("\\u202ereversed");
      expect(text).not.toMatch(/[\u001b\u0007\u202e]/);
    }
  });

  it("import records the new text too (same recording stage as ingest)", async () => {
    const file = join(sb.dir, "reply.eml");
    writeFileSync(file, fill("reply-new-text-gmail-quote-and-signature.eml"));
    const r = await runAsync(sb, ["import", file, "--workers", "0", "--json"], "");
    expect(r.code, r.stderr).toBe(0);
    const [stored] = rows(db(sb), `SELECT details, reply_text AS "replyText" FROM actions WHERE issue_id = 1 ORDER BY id`);
    expect(stored.replyText).toBe("Thanks, the parcel arrived this morning.\nOne box was damaged though.");
    expect(stored.details).toContain("> your order 1042 was shipped on Monday with DHL.");
  });

  it("the web console shows the stored new text first, the whole mail behind a summary", async () => {
    await feed(sb, fill("reply-new-text-gmail-quote-and-signature.eml"));
    const web = await startConsole(sb);
    try {
      const html = await (await fetch(`${web.url}/issues/1`)).text();
      const start = html.indexOf('<div class="body">');
      expect(start).toBeGreaterThan(0);
      const body = html.slice(start, html.indexOf("</article>", start));
      expect(body).toMatch(/<pre>Thanks, the parcel arrived this morning.\nOne box was damaged though.<\/pre>/);
      expect(body).toContain("<summary>Whole mail</summary>");
      expect(body.indexOf("your order 1042 was shipped")).toBeGreaterThan(body.indexOf("Whole mail"));
    } finally {
      await web.stop();
    }
  });

  it("issue show --help names --full", async () => {
    const help = (await cli(sb, "issue", "show", "--help")).stdout;
    expect(help).toMatch(/--full\s+print each action's whole mail text/);
  });
});
