// Issue 15's proof, in a real browser: headless Chromium (Debian's package) driven by playwright-core
// against `ingest-mail web` on a free loopback port. Hostile fixtures (web-*.eml) carry script,
// event handlers, javascript: URLs and CSS tricks in every field; any dialog, page error, console
// error of the console's own pages or request that leaves the console's origin fails the test.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db, readFixture, root, rows, storedBytes, type Sandbox } from "./helpers/cli.js";
import { admin, configured, createIssue, feed } from "./helpers/setup.js";
import { onPostgres } from "./helpers/test-db.js";
import { CHROMIUM, haveChromium, startConsole, type Console } from "./helpers/web.js";

const SHOTS = join(root, "docs", "screenshots");
// The README's screenshots come from the default engine. On PostgreSQL the pages are still rendered
// and shot, but not written: the two projects run at the same time and would write the same files.
const shot = (file: string) => (onPostgres ? undefined : join(SHOTS, file));

if (!haveChromium) {
  // Said out loud, never a silent pass: the suite below is reported as skipped.
  process.stderr.write(`web-console.test: SKIPPED, no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
}

describe.skipIf(!haveChromium)("the web console in a browser", () => {
  let sb: Sandbox;
  let web: Console;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const ids: Record<string, number> = {};
  const problems: string[] = [];
  /** Script and load refusals inside the sandboxed mail frame: the defence working, counted. */
  const refusedInMailFrame: string[] = [];

  const watch = (p: Page) => {
    p.on("dialog", (d) => {
      problems.push(`dialog: ${d.type()} ${d.message()}`);
      void d.dismiss();
    });
    p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    p.on("console", (m) => {
      if (m.type() !== "error" && m.type() !== "warning") return;
      const where = m.location().url;
      if (/\/html-body$/.test(where) || /frame is sandboxed and the 'allow-scripts' permission is not set/.test(m.text())) return void refusedInMailFrame.push(m.text());
      problems.push(`console ${m.type()} at ${where}: ${m.text()}`);
    });
  };

  beforeAll(async () => {
    sb = configured();
    ids.alice = (await feed(sb, readFixture("new-mail-opens-issue.eml"))).stagedId;
    ids.grace = (await feed(sb, readFixture("attachments-stored-by-hash.eml"))).stagedId;
    ids.hostile = (await feed(sb, readFixture("web-hostile-html-mail.eml"))).stagedId;
    const invalid = await feed(sb, readFixture("web-hostile-invalid-mail.eml"));
    expect(invalid.status).toBe("invalid");
    ids.invalid = invalid.stagedId;
    // A merged ticket: alice's first issue merged into a second one; her reply lands on the target.
    const target = await createIssue(sb, "ticket", { email: "alice@customer.example", subject: "Order 1042 (merged)" });
    await admin(sb, "issue", "merge", "1", "--into", String(target.id));
    const reply = await feed(sb, readFixture("reply-to-merged-ticket.eml"));
    ids.reply = reply.stagedId;
    expect(reply.issues.map((i: { issueId: number }) => i.issueId)).toEqual([target.id]);
    ids.target = target.id;

    web = await startConsole(sb);
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    // Every request must stay on the console's origin; anything else is recorded and cut off.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${web.url}/`) || url === web.url) return route.continue();
      problems.push(`unexpected request: ${url}`);
      return route.abort();
    });
    page = await context.newPage();
    watch(page);
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  const shoot = async (name: string) => {
    await page.screenshot({ path: shot(`${name}-desktop.png`), fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: shot(`${name}-phone.png`), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  it("lists staged mail newest first, filters by status and text", async () => {
    await page.goto(`${web.url}/`);
    const listed = await page.$$eval("table.list tbody tr td:first-child a", (as) => as.map((a) => Number(a.textContent)));
    expect(listed.slice(0, 5)).toEqual([...listed.slice(0, 5)].sort((a, b) => b - a));
    expect(listed).toContain(ids.invalid);
    // The hostile subject is text on the page, not markup.
    expect(await page.locator("table.list").innerText()).toContain("<script>alert('subject')</script>");
    await shoot("list");

    await page.click('ul.tabs a[href*="status=invalid"]');
    const invalidRows = await page.$$eval("table.list tbody tr td:first-child a", (as) => as.map((a) => Number(a.textContent)));
    expect(invalidRows).toEqual([ids.invalid]);

    await page.goto(`${web.url}/`);
    await page.fill("#q", "kettle arrived dented");
    await page.click('form[role="search"] button[type="submit"]');
    expect(await page.$$eval("table.list tbody tr td:first-child a", (as) => as.map((a) => Number(a.textContent)))).toEqual([ids.grace]);
    expect(page.url()).toContain("q=kettle");

    // The other filters, from the keyboard: open "More filters", type a sender, press Enter.
    await page.goto(`${web.url}/`);
    await page.focus("details.more summary");
    await page.keyboard.press("Enter");
    await page.fill("#sender", "alice@customer.example");
    await page.press("#sender", "Enter");
    await page.waitForURL(/sender=alice/);
    expect(await page.$$eval("table.list tbody tr td:first-child a", (as) => as.map((a) => Number(a.textContent)))).toEqual([ids.reply, ids.alice]);
    expect(await page.locator("details.more").getAttribute("open")).not.toBeNull();
  });

  it("opens a mail and downloads an attachment and the raw mail byte for byte", async () => {
    await page.goto(`${web.url}/`);
    await page.click(`table.list a[href="/staged/${ids.grace}"] >> nth=0`);
    expect(await page.locator("h1").innerText()).toContain("Damaged item, photos attached");
    expect(await page.locator("#h-body + pre").innerText()).toContain("The kettle arrived dented.");
    expect(await page.locator("ol.steps").innerText()).toMatch(/route: new ticket CS-\d+/);
    await shoot("mail");

    const stored = rows<{ id: number; filename: string; storedPath: string; sha256: string }>(db(sb), `SELECT id, filename, stored_path AS "storedPath", sha256 FROM attachments WHERE staged_mail_id = ? ORDER BY id`, ids.grace);
    const pdf = stored.find((a) => a.filename === "invoice 1042.pdf")!;
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(`a[href="/staged/${ids.grace}/attachments/${pdf.id}"]`)]);
    expect(download.suggestedFilename()).toBe("invoice 1042.pdf");
    const got = readFileSync((await download.path())!);
    expect(createHash("sha256").update(got).digest("hex")).toBe(pdf.sha256);
    // The stored bytes: a file on SQLite, a blob in the database on PostgreSQL (issue 11.8).
    expect(got.equals(storedBytes(db(sb), pdf.storedPath))).toBe(true);

    const [raw] = await Promise.all([page.waitForEvent("download"), page.click(`a[href="/staged/${ids.grace}/raw"]`)]);
    expect(raw.suggestedFilename()).toBe(`staged-${ids.grace}.eml`);
    expect(readFileSync((await raw.path())!).equals(readFixture("attachments-stored-by-hash.eml"))).toBe(true);

    // A path in the mail's attachment name never becomes a path on the admin's disk.
    const passwd = stored.find((a) => a.filename.includes("passwd"))!;
    const [evil] = await Promise.all([page.waitForEvent("download"), page.click(`a[href="/staged/${ids.grace}/attachments/${passwd.id}"]`)]);
    expect(evil.suggestedFilename()).toBe("passwd");
  });

  it("shows a hostile mail as text, its HTML only in a sandbox, and downloads its hostile attachments safely", async () => {
    await page.goto(`${web.url}/staged/${ids.hostile}`);
    expect(await page.locator("h1").innerText()).toContain("<script>alert('subject')</script><img src=x onerror=alert(1)>");
    const main = await page.locator("main").innerText();
    expect(main).toContain("<img src=x onerror=alert('from')>");
    expect(main).toContain("</textarea></pre><script>alert(5)</script>");
    // No element came from the mail: the page has no script, no img and one stylesheet, ours.
    expect(await page.$$eval("script, img, iframe, style, base, meta[http-equiv]", (e) => e.length)).toBe(0);
    expect(await page.$$eval('a[href^="javascript"]', (e) => e.length)).toBe(0);

    await page.click(`a[href="/staged/${ids.hostile}/html"]`);
    const frame = page.locator("iframe.mailhtml");
    expect(await frame.getAttribute("sandbox")).toBe("");
    const body = page.frameLocator("iframe.mailhtml").locator("body");
    await body.waitFor();
    expect(await body.innerText()).toContain("Pay the invoice now.");
    // The page around the frame is still ours and visible (the frame's CSS tricks stay inside it).
    expect(await page.locator("h1").isVisible()).toBe(true);
    await page.waitForTimeout(300);
    // The mail's script and remote loads were attempted and refused inside the frame.
    expect(refusedInMailFrame.length).toBeGreaterThan(0);

    const files = rows<{ id: number; filename: string; storedPath: string }>(db(sb), `SELECT id, filename, stored_path AS "storedPath" FROM attachments WHERE staged_mail_id = ? ORDER BY id`, ids.hostile);
    await page.goto(`${web.url}/staged/${ids.hostile}`);
    for (const a of files) {
      const [d] = await Promise.all([page.waitForEvent("download"), page.click(`a[href="/staged/${ids.hostile}/attachments/${a.id}"]`)]);
      expect(d.suggestedFilename()).not.toMatch(/[/\\<>"\u202e\r\n]/);
      expect(readFileSync((await d.path())!).equals(storedBytes(db(sb), a.storedPath))).toBe(true);
    }
    expect(problems).toEqual([]);
  });

  it("resubmits an invalid mail with a subject and shows it complete", async () => {
    await page.goto(`${web.url}/staged/${ids.invalid}`);
    expect(await page.locator("main").innerText()).toContain('<h1 style="position:fixed;inset:0;background:red">Hacked</h1>');
    await page.fill("#subject", "Where is my parcel?");
    // The POST, its redirect, and the mail's page again.
    await Promise.all([page.waitForResponse((r) => r.url() === `${web.url}/staged/${ids.invalid}` && r.request().method() === "GET"), page.click('form[action$="/resubmit"] button')]);
    await page.waitForLoadState("load");
    expect(await page.locator('[role="status"]').innerText()).toMatch(/^Resubmitted: complete on CS-\d+$/);
    expect(await page.locator("h1 .badge").first().innerText()).toBe("complete");
    expect(await page.locator("h1").innerText()).toContain("Where is my parcel?");
    expect(await page.locator("main").innerText()).toContain("resubmitted from the web console");
    expect(rows(db(sb), `SELECT status, subject FROM staged_mails WHERE id = ?`, ids.invalid)).toEqual([{ status: "complete", subject: "Where is my parcel?" }]);
  });

  it("reads a merged issue's whole conversation with its senders and links", async () => {
    await page.goto(`${web.url}/issues`);
    await page.click(`a[href="/issues/${ids.target}"] >> nth=0`);
    const articles = page.locator("article.msg");
    expect(await articles.count()).toBe(2);
    const first = await articles.nth(0).innerText();
    const second = await articles.nth(1).innerText();
    expect(first).toContain("Alice Smith <alice@customer.example>");
    expect(first).toContain("merged here");
    expect(second).toContain("Reply to a ticket that was merged into another.");
    expect(await page.locator("#h-links + dl").innerText()).toMatch(/Merged from\s+CS-000001/);
    await shoot("issue");
    await page.click('a[href="/issues/1"] >> nth=0');
    expect(await page.locator("#h-links + dl").innerText()).toMatch(/Merged into\s+CS-0+\d/);
  });

  it("reads the same with JavaScript off, and starts keyboard users at a skip link", async () => {
    const plain = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    await plain.route("**/*", (route) => (route.request().url().startsWith(web.url) ? route.continue() : (problems.push(`unexpected request: ${route.request().url()}`), route.abort())));
    const p = await plain.newPage();
    watch(p);
    await p.goto(`${web.url}/?status=complete`);
    expect(await p.locator("table.list tbody tr").count()).toBeGreaterThan(0);
    await p.goto(`${web.url}/staged/${ids.grace}`);
    expect(await p.locator("main").innerText()).toContain("The kettle arrived dented.");
    await p.goto(`${web.url}/issues/${ids.target}`);
    expect(await p.locator("article.msg").count()).toBe(2);
    await plain.close();

    await page.goto(`${web.url}/`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    // Following a same-page link is not finished when press() resolves: wait for the fragment (the
    // URL read at once was, rarely, still the page's own; seen once in CI).
    await page.waitForURL(/#main$/, { timeout: 5000 });
    expect(page.url()).toMatch(/#main$/);
  });

  it("dark mode follows the browser", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
    await dark.route("**/*", (route) => (route.request().url().startsWith(web.url) ? route.continue() : (problems.push(`unexpected request: ${route.request().url()}`), route.abort())));
    const p = await dark.newPage();
    watch(p);
    await p.goto(`${web.url}/`);
    const bg = await p.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg).toBe("rgb(15, 20, 25)");
    await p.screenshot({ path: shot("list-dark-desktop.png") });
    await dark.close();
  });

  it("refuses a POST without the CSRF token, or with another session's", async () => {
    const cookies = await context.cookies(web.url);
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const post = (body: string) =>
      fetch(`${web.url}/staged/${ids.invalid}/resubmit`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
    expect((await post("subject=x")).status).toBe(403);
    expect((await post("subject=x&_csrf=AAAA")).status).toBe(403);
    // The page's own token works (the record is complete now, so resubmit is refused as a value).
    await page.goto(`${web.url}/staged/${ids.alice}`);
    expect(await page.locator('form[action$="/resubmit"]').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it("saw no dialog, page error, console error or foreign request on any page", () => {
    expect(problems).toEqual([]);
  });
});
