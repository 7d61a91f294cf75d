// Cold start (issue 5): the MTA's plain ingest call loads neither drizzle-orm nor commander, and the
// launcher compiles the bundle with the build's V8 code cache, yet behaves exactly as a plain
// require() of the bundle whatever state the cache is in.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledSources } from "./helpers/bundle.js";
import { db, initDb, readFixture, root, sandbox } from "./helpers/cli.js";
import { findPostgresBin, postgresUnavailable, testServer, type TestServer } from "./helpers/postgres.js";

const bundle = join(root, "dist", "bundle", "ingest-mail.cjs");

/** A copy of the built package (node_modules linked) whose cache the tests may break. */
function packageCopy(): { dir: string; bin: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-cold-"));
  for (const part of ["bin", "dist", "drizzle", "package.json"]) cpSync(join(root, part), join(dir, part), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return { dir, bin: join(dir, "bin", "ingest-mail.js"), cache: join(dir, "dist", "bundle", "ingest-mail.cjs.cache") };
}

function exec(script: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, script, ...args], { env, input, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Logs every module require()d by name, so a test can see what a run loaded from node_modules.
const requireLog = `const M = require("module"); const load = M._load; const seen = new Set();
M._load = function (request, ...rest) { seen.add(request); return load.call(this, request, ...rest); };
process.on("exit", () => require("fs").writeFileSync(process.env.REQUIRE_LOG, [...seen].join("\\n")));`;

describe("the plain ingest path", () => {
  let hook: string;
  beforeAll(() => {
    hook = join(mkdtempSync(join(tmpdir(), "ingest-mail-hook-")), "hook.cjs");
    writeFileSync(hook, requireLog);
  });

  // On a database that exists and is migrated, as on a running server.
  const loaded = (args: string[], input?: Buffer) => {
    const sb = sandbox();
    expect(exec(join(root, "bin", "ingest-mail.js"), [], sb.env, readFixture("new-mail-to-default-route.eml")).code).toBe(0);
    const log = join(sb.dir, "required.txt");
    const r = exec(join(root, "bin", "ingest-mail.js"), args, { ...sb.env, REQUIRE_LOG: log }, input, ["-r", hook]);
    return { ...r, modules: readFileSync(log, "utf8").split("\n") };
  };

  it("loads neither commander nor drizzle-orm", () => {
    const r = loaded(["service@example.com", "--json"], readFixture("new-mail-opens-issue.eml"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("complete");
    expect(r.modules.filter((m) => /commander|drizzle/.test(m))).toEqual([]);
    // ... which are not in the bundle either.
    const sources = bundledSources("ingest-mail");
    expect(sources).toContain("src/cli/main.ts");
    expect(sources.filter((s) => /^node_modules\/(drizzle-orm|commander)\//.test(s))).toEqual([]);
  });

  // Issue 9 (cold start): html-to-text's bundle leaves out dom-serializer and its copy of
  // `entities` (their tables were built on every HTML-only start, for formatters we never select),
  // and decodes htmlparser2's entity tree with Buffer (scripts/bundle.mjs).
  it("an HTML-only mail does not load dom-serializer, and converts as html-to-text itself does", async () => {
    const r = loaded(["--json"], readFixture("html-only-converted-to-text.eml"));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("complete");
    expect(r.modules.filter((m) => /dom-serializer|entities/.test(m))).toEqual([]);
    const chunk = join(root, "dist", "bundle", "html-to-text.cjs");
    expect(readFileSync(chunk, "utf8")).not.toMatch(/^\/\/ node_modules\/(dom-serializer|entities)\//m);
    // The same text as node_modules' html-to-text: named, numeric and legacy entities (the decode
    // tree), and the one formatter that needs dom-serializer, which the bundle then loads.
    const bundled = (await import(chunk)) as typeof import("html-to-text");
    const original = await import("html-to-text");
    const html = `<p>caf&eacute; &amp; cr&egrave;me &#x41;&#66; &copy &notin; &NotNestedGreaterGreater; &fjlig; &bogus;</p><div class="raw"><b>kept &lt;as&gt; HTML</b></div>`;
    const options = { selectors: [{ selector: "div.raw", format: "blockHtml" }] };
    expect(bundled.convert(html, options)).toBe(original.convert(html, options));
    expect(bundled.convert(html, options)).toContain("<b>kept &lt;as&gt; HTML</b>");
    expect(bundled.convert(html)).toContain("café & crème AB ©");
  });

  // Issue 9 (cold start): the decision trees of html-to-text's default selectors are woven when the
  // bundle is built (scripts/bundle.mjs, the selderee deferral), not on every HTML-only start.
  it("html-to-text's bundle weaves its default selectors at build time, and converts as html-to-text itself does", async () => {
    const chunk = join(root, "dist", "bundle", "html-to-text.cjs");
    const bundled = (await import(chunk)) as typeof import("html-to-text");
    const original = await import("html-to-text");
    const woven: string[] = [];
    const hook = Symbol.for("ingest-mail.woven");
    (globalThis as Record<symbol, unknown>)[hook] = (key: string) => woven.push(key);
    try {
      const convert = bundled.compile({ limits: { maxDepth: 100 } });
      expect(woven).toEqual([]);
      const bodies = [
        "<h1>Order</h1><p>Hello <b>Ann</b>,</p><p>see <a href='https://example.org/x'>the page</a>.<br>Bye</p><hr><img src='x.png' alt='logo'>",
        "<table><tr><th>Order</th><th>State</th></tr><tr><td>1234</td><td>shipped</td></tr></table>",
        "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul><pre>  kept   as is</pre>",
        "<div><blockquote><p>Can you call me?</p></blockquote><h2>Next</h2><dl><dt>term</dt><dd>said</dd></dl></div>",
      ];
      for (const html of bodies) expect(convert(html)).toBe(original.convert(html, { limits: { maxDepth: 100 } }));
      // Other selectors are woven at run time, as before.
      bundled.compile({ selectors: [{ selector: "div.raw", format: "skip" }] });
      expect(woven).toHaveLength(1);
      expect(woven[0]).toContain("div.raw");
    } finally {
      delete (globalThis as Record<symbol, unknown>)[hook];
    }
  });

  it("anything else still goes through commander", () => {
    const r = loaded(["--version"]);
    // The program's version, then the schema it writes (issue 14): the migrations shipped (SQLite's,
    // the embedded default; issue 11 put each engine's in its own folder).
    expect(r.stdout).toBe(`0.1.0 (schema ${readdirSync(join(root, "drizzle", "sqlite")).filter((f) => f.endsWith(".sql")).length})\n`);
    expect(r.modules).toContain("commander");
  });

  it("migrating a fresh database loads drizzle's migrator, and only then", () => {
    const sb = sandbox();
    const log = join(sb.dir, "required.txt");
    const env = { ...sb.env, REQUIRE_LOG: log };
    const first = exec(join(root, "bin", "ingest-mail.js"), [], env, readFixture("new-mail-opens-issue.eml"), ["-r", hook]);
    expect(first.code).toBe(0);
    expect(readFileSync(log, "utf8").split("\n")).toContain("drizzle-orm/migrator");
    exec(join(root, "bin", "ingest-mail.js"), [], env, readFixture("new-mail-to-default-route.eml"), ["-r", hook]);
    expect(readFileSync(log, "utf8")).not.toMatch(/drizzle/);
  });
});

describe("the V8 code cache", () => {
  const check = (bin: string, input = readFixture("new-mail-opens-issue.eml")) => {
    const sb = sandbox({ INGEST_MAIL_CODE_CACHE: "check" });
    const r = exec(bin, ["--json"], sb.env, input);
    return { ...r, cache: r.stderr.split("\n")[0], rest: r.stderr.split("\n").slice(1).join("\n") };
  };

  it("is made by the build and used", () => {
    const r = check(join(root, "bin", "ingest-mail.js"));
    expect(r.code).toBe(0);
    expect(r.cache).toBe("code cache: used");
    expect(JSON.parse(r.stdout).status).toBe("complete");
  });

  // Issue 9: html-to-text (60 modules) is a bundle of its own, compiled with its own code cache
  // only when a mail needs HTML converted; plain mail never loads it.
  it("html-to-text comes from its own bundle and cache, only for HTML mail", () => {
    const html = check(join(root, "bin", "ingest-mail.js"), readFixture("html-only-converted-to-text.eml"));
    expect(html.code, html.stderr).toBe(0);
    expect(html.stderr.split("\n").filter(Boolean)).toEqual(["code cache: used", "code cache (html-to-text.cjs): used"]);
    expect(JSON.parse(html.stdout).status).toBe("complete");
    const plain = check(join(root, "bin", "ingest-mail.js"));
    expect(plain.stderr.split("\n").filter(Boolean)).toEqual(["code cache: used"]);
  });

  it.each([
    ["missing", (cache: string) => rmSync(cache), "none"],
    ["unreadable (a folder in its place)", (cache: string) => (rmSync(cache), mkdirSync(cache)), "none"],
    ["from another build", (cache: string) => writeFileSync(cache, Buffer.concat([Buffer.alloc(32, 7), readFileSync(cache).subarray(32)])), "none"],
    ["corrupt (V8 rejects it)", (cache: string) => writeFileSync(cache, Buffer.concat([readFileSync(cache).subarray(0, 32), Buffer.alloc(5000, 1)])), "rejected"],
    ["empty", (cache: string) => writeFileSync(cache, ""), "none"],
  ])("%s: the mail is ingested all the same, silently", (_, breakIt, state) => {
    const pkg = packageCopy();
    try {
      breakIt(pkg.cache);
      const r = check(pkg.bin);
      expect(r.cache).toBe(`code cache: ${state}`);
      expect(r.rest).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: "complete", issues: [{ created: true }] });
      // And without the check, nothing at all on stderr.
      const quiet = exec(pkg.bin, [], sandbox().env, readFixture("new-mail-opens-issue.eml"));
      expect([quiet.code, quiet.stderr]).toEqual([0, ""]);
    } finally {
      rmSync(pkg.dir, { recursive: true, force: true });
    }
  });

  it("errors read as with a plain require() of the bundle; under INGEST_MAIL_DEBUG their stack traces name the sources", () => {
    // A table gone from under us: an unexpected fault, with its stack under INGEST_MAIL_DEBUG (a
    // file that is not a database is refused with a message of its own, and one the store cannot
    // open is a storage fault, 75, issue 11.3).
    const sb = initDb(sandbox());
    const d = db(sb);
    d.exec("DROP TABLE staged_mails");
    d.close();
    const viaLauncher = exec(join(root, "bin", "ingest-mail.js"), ["list"], sb.env);
    const plain = exec(bundle, ["list"], sb.env);
    expect(viaLauncher.code).toBe(70);
    expect(viaLauncher.stderr).toMatch(/no such table: staged_mails/);
    expect(viaLauncher).toEqual(plain);
    // The bundle is minified: its source map gives each frame's TypeScript file and line, as Node
    // itself gives them to the bundle required with --enable-source-maps.
    const env = { ...sb.env, INGEST_MAIL_DEBUG: "1" };
    const debug = exec(join(root, "bin", "ingest-mail.js"), ["list"], env);
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/\bsrc\/[\w/.-]+\.ts:\d+:\d+/);
    expect(debug.stderr).not.toMatch(/ingest-mail\.cjs:\d+/);
    expect(debug).toEqual(exec(bundle, ["list"], env, undefined, ["--enable-source-maps"]));
  });
});

// Issue 11.9: the PostgreSQL engine is a bundle of its own (postgres.cjs), compiled with its own
// code cache, which the build trains on a private server where PostgreSQL's server binaries are.
describe.skipIf(!findPostgresBin() || postgresUnavailable())("the PostgreSQL engine's code cache", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await testServer();
  }, 120_000);
  afterAll(async () => server?.stop());

  const ingest = async (bin: string, name: string) => {
    const url = await server.createDatabase(name);
    const sb = sandbox({ INGEST_MAIL_CODE_CACHE: "check", INGEST_MAIL_DB: server.socketUrl?.(name) ?? url });
    // The first run migrates the empty database; the second is the common case.
    expect(exec(bin, [], { ...sb.env, INGEST_MAIL_CODE_CACHE: "off" }, readFixture("new-mail-to-default-route.eml")).code).toBe(0);
    return exec(bin, ["--json"], sb.env, readFixture("new-mail-opens-issue.eml"));
  };

  it("is made by the build and used for a postgres:// database, and its absence changes nothing but the time", async () => {
    const r = await ingest(join(root, "bin", "ingest-mail.js"), `cold_cache_${process.pid}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual(["code cache: used", "code cache (postgres.cjs): used"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "complete", issues: [{ created: true }] });

    const pkg = packageCopy();
    try {
      rmSync(join(pkg.dir, "dist", "bundle", "postgres.cjs.cache"));
      const without = await ingest(pkg.bin, `cold_nocache_${process.pid}`);
      expect(without.code, without.stderr).toBe(0);
      expect(without.stderr.split("\n").filter(Boolean)).toEqual(["code cache: used", "code cache (postgres.cjs): none"]);
      expect(JSON.parse(without.stdout)).toMatchObject({ status: "complete", issues: [{ created: true }] });
    } finally {
      rmSync(pkg.dir, { recursive: true, force: true });
    }
  });

  it("loads neither dns nor tls for a delivery over the unix socket (pg's dns is deferred by the bundle)", async () => {
    const name = `cold_modules_${process.pid}`;
    const url = await server.createDatabase(name);
    const sb = sandbox({ INGEST_MAIL_DB: server.socketUrl?.(name) ?? url });
    expect(exec(join(root, "bin", "ingest-mail.js"), [], sb.env, readFixture("new-mail-to-default-route.eml")).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "ingest-mail-hook-"));
    try {
      const hook = join(dir, "hook.cjs");
      writeFileSync(hook, requireLog);
      const log = join(dir, "required.txt");
      const r = exec(join(root, "bin", "ingest-mail.js"), ["--json"], { ...sb.env, REQUIRE_LOG: log }, readFixture("new-mail-opens-issue.eml"), ["-r", hook]);
      expect(r.code, r.stderr).toBe(0);
      const modules = readFileSync(log, "utf8").split("\n");
      expect(modules).toContain("net");
      expect(modules.filter((m) => /^(node:)?(dns|tls)$/.test(m))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
