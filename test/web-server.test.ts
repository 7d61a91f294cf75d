// `ingest-mail web` over HTTP, without a browser: the refusal to listen beyond loopback without a
// login, `web passwd`, the login itself, CSRF and Origin checks, the Host check against DNS
// rebinding, and the headers on pages and downloads (issue 15 §1, §3).
import { request } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledSources } from "./helpers/bundle.js";
import { readFixture, root, runAsync, type Sandbox } from "./helpers/cli.js";
import { configured, feed } from "./helpers/setup.js";
import { startConsole, type Console } from "./helpers/web.js";

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request (fetch will not send a Host header of our choosing). */
function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const cookieOf = (r: Res) => String((r.headers["set-cookie"] as string[] | undefined)?.[0] ?? "").split(";")[0];
const tokenOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

describe("listening beyond loopback", () => {
  it("is refused without a login, naming how to set one (exit 78)", async () => {
    const sb = configured();
    const r = await runAsync(sb, ["web", "--listen", "0.0.0.0:0"], "");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("ingest-mail web passwd");
  });

  it("`web passwd` writes a hash, never the password, into the config and keeps the other keys", async () => {
    const sb = configured();
    const file = sb.env.INGEST_MAIL_CONFIG!;
    expect((await runAsync(sb, ["web", "passwd"], "short\n")).code).toBe(64);
    const r = await runAsync(sb, ["web", "passwd"], "a long enough secret\n");
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("a long enough secret");
    const config = JSON.parse(text);
    expect(config.web.passwordHash).toMatch(/^scrypt\$/);
    expect(config.supportAddresses).toEqual(["service@example.test", "billing@example.test"]);
    // Without a config file to write to, it says so.
    const bare = { ...sb, env: { ...sb.env, INGEST_MAIL_CONFIG: undefined } };
    expect((await runAsync(bare, ["web", "passwd"], "a long enough secret\n")).code).toBe(64);
  });
});

describe("the console over HTTP", () => {
  let sb: Sandbox;
  let web: Console;
  let staged: number;
  beforeAll(async () => {
    sb = configured();
    staged = (await feed(sb, readFixture("web-hostile-html-mail.eml"))).stagedId;
    expect((await runAsync(sb, ["web", "passwd"], "console password 1\n")).code).toBe(0);
    web = await startConsole(sb);
  });
  afterAll(async () => {
    expect(await web?.stop()).toBe(0);
  });

  const login = async (password: string) => {
    const page = await http(`${web.url}/login`);
    const cookie = cookieOf(page);
    const r = await http(`${web.url}/login?next=%2Fissues`, { method: "POST", headers: { cookie, ...FORM }, body: form({ _csrf: tokenOf(page.body.toString()), password }) });
    return { r, cookie: cookieOf(r) || cookie };
  };

  it("asks for the login first, and a wrong password gets nothing", async () => {
    const r = await http(`${web.url}/staged/${staged}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe(`/login?next=${encodeURIComponent(`/staged/${staged}`)}`);
    expect((await http(`${web.url}/staged/${staged}/raw`)).status).toBe(303);
    const wrong = await login("not it at all");
    expect(wrong.r.headers.location).toMatch(/^\/login\?failed=1/);
    expect((await http(`${web.url}/`, { headers: { cookie: wrong.cookie } })).status).toBe(303);
  });

  it("logs in with a fresh HttpOnly, SameSite=Strict session, and logs out", async () => {
    const { r, cookie } = await login("console password 1");
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe("/issues");
    expect(String(r.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await http(`${web.url}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const token = tokenOf(page.body.toString());
    const out = await http(`${web.url}/logout`, { method: "POST", headers: { cookie, ...FORM }, body: form({ _csrf: token }) });
    expect(out.status).toBe(303);
    expect((await http(`${web.url}/`, { headers: { cookie } })).status).toBe(303);
  });

  it("refuses a login POST without its token, and a login redirect off the site", async () => {
    const page = await http(`${web.url}/login`);
    const cookie = cookieOf(page);
    expect((await http(`${web.url}/login`, { method: "POST", headers: { cookie, ...FORM }, body: form({ password: "console password 1" }) })).status).toBe(403);
    const token = tokenOf(page.body.toString());
    const r = await http(`${web.url}/login?next=//evil.example/`, { method: "POST", headers: { cookie, ...FORM }, body: form({ _csrf: token, password: "console password 1" }) });
    expect(r.headers.location).toBe("/");
  });

  it("refuses state changes without the session's token or from another origin", async () => {
    const { cookie } = await login("console password 1");
    const token = tokenOf((await http(`${web.url}/`, { headers: { cookie } })).body.toString());
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      http(`${web.url}/outbox/1/retry`, { method: "POST", headers: { cookie, ...FORM, ...headers }, body: form(body) });
    expect((await post({})).status).toBe(403);
    expect((await post({ _csrf: "x".repeat(43) })).status).toBe(403);
    expect((await post({ _csrf: token }, { origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ _csrf: token }, { origin: "null" })).status).toBe(403);
    // Another session's token does not fit this one.
    const other = await login("console password 1");
    expect((await http(`${web.url}/outbox/1/retry`, { method: "POST", headers: { cookie: other.cookie, ...FORM }, body: form({ _csrf: token }) })).status).toBe(403);
    // With it, the action runs (and answers as a value: there is no outbound mail 1).
    const ok = await post({ _csrf: token });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/outbox");
    expect((await http(`${web.url}/outbox`, { headers: { cookie } })).body.toString()).toContain("no outbound mail 1");
  });

  // Unicode TR36 §2.5 and issue 10: a mail's bidi overrides, escapes, C1 controls and BEL are shown as
  // U+FFFD on every page (they reached the From, the issue heading and the conversation raw).
  it("shows a mail's bidi, escape and C1 controls as U+FFFD on every page that quotes it", async () => {
    const out = await feed(sb, Buffer.from("From: Bob \u202etxt.exe <bob@customer.example>\nTo: service@example.test\nSubject: report\u202efdp.exe \u001b[31mred\u0007 \u009b2J\nMessage-ID: <bidi@customer.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nHello \u202eevil\n"));
    const { cookie } = await login("console password 1");
    for (const path of [`/staged/${out.stagedId}`, `/issues/${out.issues[0].issueId}`, "/", "/issues"]) {
      const page = await http(`${web.url}${path}`, { headers: { cookie } });
      expect(page.status, path).toBe(200);
      const html = page.body.toString();
      expect(html, path).toContain("\ufffd");
      expect(html, path).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]/);
      if (page.headers["content-length"] !== undefined) expect(Number(page.headers["content-length"]), path).toBe(page.body.length);
    }
  });

  it("answers only its own Host names (DNS rebinding)", async () => {
    const port = new URL(web.url).port;
    expect((await http(`${web.url}/login`, { headers: { host: `evil.example:${port}` } })).status).toBe(421);
    expect((await http(`${web.url}/login`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it("sends a strict CSP and no-sniff on pages, and types and names downloads itself", async () => {
    const { cookie } = await login("console password 1");
    const page = await http(`${web.url}/staged/${staged}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toBe("default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    const html = page.body.toString();
    // Every tag on the page is one of ours; no attribute came from the mail.
    const tags = new Set([...html.matchAll(/<([a-zA-Z][\w-]*)/g)].map((m) => m[1].toLowerCase()));
    expect([...tags].filter((t) => !"html head meta title link body a header div nav form input button main p h1 h2 span section dl dt dd table tbody tr td pre ol li strong details summary".split(" ").includes(t))).toEqual([]);
    expect(html).not.toMatch(/href="javascript|\son\w+="/i);
    // A right-to-left override in a file name cannot disguise it (report<RLO>fdp.exe).
    expect(html).not.toContain("\u202e");
    // Issue 10: the stored name already lost its bidi controls (the console would show U+FFFD otherwise).
    expect(html).toContain("reportfdp.exe");
    expect(html).toContain("&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;");

    const frame = await http(`${web.url}/staged/${staged}/html-body`, { headers: { cookie } });
    expect(frame.headers["content-security-policy"]).toBe("default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox");
    expect(frame.headers["x-content-type-options"]).toBe("nosniff");

    const ids = [...html.matchAll(new RegExp(`/staged/${staged}/attachments/(\\d+)`, "g"))].map((m) => m[1]);
    expect(ids.length).toBe(2);
    const a = await http(`${web.url}/staged/${staged}/attachments/${ids[0]}`, { headers: { cookie } });
    expect(a.headers["content-type"]).toBe("application/octet-stream");
    expect(a.headers["content-disposition"]).toBe(`attachment; filename="__img src_x onerror_alert(14)_.html"; filename*=UTF-8''%3E%3Cimg%20src%3Dx%20onerror%3Dalert%2814%29%3E.html`);
    expect(a.headers["x-content-type-options"]).toBe("nosniff");
    expect(a.body.toString()).toBe("<script>alert('attachment')</script>");
    const raw = await http(`${web.url}/staged/${staged}/raw`, { headers: { cookie } });
    expect(raw.body.equals(readFixture("web-hostile-html-mail.eml"))).toBe(true);
    // Another mail's attachment id under this mail's path is not found.
    expect((await http(`${web.url}/staged/999/attachments/${ids[0]}`, { headers: { cookie } })).status).toBe(404);
  });
  it("turns away huge posts, and password guessing after five wrong tries a minute (429)", async () => {
    const page = await http(`${web.url}/login`);
    const cookie = cookieOf(page);
    const token = tokenOf(page.body.toString());
    const big = await http(`${web.url}/login`, { method: "POST", headers: { cookie, ...FORM }, body: form({ _csrf: token, password: "x".repeat(100_000) }) });
    expect(big.status).toBe(413);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(`wrong ${i}`)).r.status);
    // One wrong try was made by an earlier test in this console.
    expect(statuses).toEqual([303, 303, 303, 303, 429, 429]);
    expect((await login("console password 1")).r.status).toBe(429);
  });
});

describe("a config without a login on loopback", () => {
  it("serves without one, and a bad passwordHash in the config is refused by name", async () => {
    const sb = configured();
    writeFileSync(join(sb.dir, "config.json"), JSON.stringify({ web: { passwordHash: "hunter2" } }));
    const r = await runAsync(sb, ["web"], "");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('"web.passwordHash"');
  });
});

describe("actions over HTTP", () => {
  const page = async (web: Console, path: string, cookie = "") => {
    const r = await http(`${web.url}${path}`, { headers: cookie ? { cookie } : {} });
    return { r, html: r.body.toString(), cookie: cookieOf(r) || cookie };
  };
  const post = (web: Console, path: string, cookie: string, fields: Record<string, string>) =>
    http(`${web.url}${path}`, { method: "POST", headers: { cookie, ...FORM, origin: web.url }, body: form(fields) });

  it("retries a failed confirmation with its own Message-ID once the transport works", async () => {
    const sb = configured((dir) => ({
      routes: [{ address: "service@example.test", kind: "ticket", sendResponse: true }],
      outbound: { transport: "sendmail", path: join(dir, "no-such-sendmail"), from: "service@example.test", host: "helpdesk.example.test" },
    }));
    const out = await feed(sb, readFixture("new-request-gets-confirmation.eml"));
    expect(out.outbound.map((o: { status: string }) => o.status)).toEqual(["failed"]);
    const messageId: string = out.outbound[0].messageId;
    // The administrator fixes the transport, then retries from the outbox.
    const file = sb.env.INGEST_MAIL_CONFIG!;
    const config = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...config, outbound: { transport: "file", dir: join(sb.dir, "outbox"), from: "service@example.test", host: "helpdesk.example.test" } }));
    const web = await startConsole(sb);
    try {
      const list = await page(web, "/outbox?status=failed");
      expect(list.html).toContain('action="/outbox/1/retry"');
      const r = await post(web, "/outbox/1/retry", list.cookie, { _csrf: tokenOf(list.html) });
      expect(r.status).toBe(303);
      const after = await page(web, "/outbox", list.cookie);
      expect(after.html).toContain("Outbound mail 1: sent");
      expect(after.html).not.toContain('action="/outbox/1/retry"');
      const sent = readFileSync(join(sb.dir, "outbox", `${messageId.replace(/^<|>$/g, "")}.eml`), "utf8");
      expect(sent.replace(/\r?\n[ \t]+/g, " ")).toContain(`Message-ID: ${messageId}`);
      expect(sent).toMatch(/Subject: \[CS-000001\]/);
      // Sent is sent: a second retry is refused as a value.
      const again = await post(web, "/outbox/1/retry", list.cookie, { _csrf: tokenOf(list.html) });
      expect(again.status).toBe(303);
      expect((await page(web, "/outbox", list.cookie)).html).toContain("outbound mail 1 is sent; only failed mail is sent again");
    } finally {
      await web.stop();
    }
  });

  it("bulk-resubmits the held mail a filter shows, and only that", async () => {
    const sb = configured({ flood: { maxNewIssues: 1, windowMinutes: 60 } });
    const mail = (n: number) => `From: flood@customer.example\nTo: service@example.test\nSubject: Request ${n}\nMessage-ID: <flood-${n}@customer.example>\n\nBody ${n}\n`;
    const statuses = [];
    for (let n = 1; n <= 4; n++) statuses.push((await feed(sb, mail(n))).status);
    expect(statuses).toEqual(["complete", "held", "held", "held"]);
    const web = await startConsole(sb);
    try {
      const list = await page(web, "/?status=held&subject=Request%203");
      expect(list.html).toContain('action="/actions/bulk-resubmit"');
      const r = await post(web, "/actions/bulk-resubmit", list.cookie, { _csrf: tokenOf(list.html), status: "held", subject: "Request 3" });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toContain("Resubmitted 1 mail: 1 complete.");
      const all = await page(web, "/?status=held", list.cookie);
      expect([...all.html.matchAll(/<a href="\/staged\/(\d+)">\d+<\/a>/g)].map((m) => Number(m[1]))).toEqual([4, 2]);
      const rest = await post(web, "/actions/bulk-resubmit", list.cookie, { _csrf: tokenOf(list.html), status: "held" });
      expect(rest.body.toString()).toContain("Resubmitted 2 mail: 2 complete.");
      // complete is not resubmittable: the filter finds nothing to do.
      const none = await post(web, "/actions/bulk-resubmit", list.cookie, { _csrf: tokenOf(list.html), status: "complete" });
      expect(none.body.toString()).toContain("Nothing matched the filter.");
    } finally {
      await web.stop();
    }
  });
});

describe("the MTA's ingest path", () => {
  it("carries none of the console: it is its own bundle, loaded only by `ingest-mail web`", () => {
    const text = readFileSync(join(root, "dist", "bundle", "ingest-mail.cjs"), "utf8");
    const sources = bundledSources("ingest-mail");
    expect(sources.filter((s) => /^(src\/web\/|node_modules\/(hono|@hono)\/)/.test(s))).toEqual([]);
    expect(text).toContain('require("./web.cjs")');
    expect(sources).toContain("src/cli/commands/web.ts");
    // esbuild names each bundled file in a comment (web.cjs is not minified).
    expect(readFileSync(join(root, "dist", "bundle", "web.cjs"), "utf8")).toMatch(/^\/\/ src\/web\/server\.ts$/m);
  });
});
