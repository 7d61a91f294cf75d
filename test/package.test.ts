// The packed package (issue 14 point 6): `npm pack` ships the built files, and the tarball installed
// with `npm install -g --prefix TMP` runs: version, a real ingest (with the lazily loaded HTML
// converter from its node_modules), admin commands, man page and completion in place. One test, slow:
// it installs from the npm cache (--offline; the registry is never asked). better-sqlite3 compiles
// its native part in its install script (minutes): that runs only with INGEST_MAIL_E2E=1 (.ci/run);
// otherwise the install skips install scripts and the test copies the addon this work tree built.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture, root } from "./helpers/cli.js";

const full = process.env.INGEST_MAIL_E2E === "1";
// Asynchronous: a worker blocked in spawnSync for a minute starves vitest's own messages
// ("Timeout calling onTaskUpdate"), which fails the run even when every test passed.
const npm = (args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn("npm", args, { cwd, env: { ...process.env, NO_COLOR: "1" }, timeout: 900_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });

describe("package-lock.json", () => {
  // npm 11 can write a lock file without other platforms' optional packages (rollup's native
  // builds); `npm ci` on a fresh clone then refuses it ("Missing: ... from lock file"). A dry run on
  // package.json + package-lock.json alone shows it in a second. Fix: npm install --package-lock-only.
  it("is complete: npm ci accepts it on a fresh copy", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "ingest-mail-ci-"));
    for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(root, f), join(tmp, f));
    const r = await npm(["ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], tmp);
    expect(r.stderr.split("\n").filter((l) => /Missing:|EUSAGE/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  });
});

describe("npm pack → npm install -g --prefix → ingest-mail", () => {
  it("the tarball holds the built files, installs (from the npm cache, else the registry once), and works", async (ctx) => {
    const tmp = mkdtempSync(join(tmpdir(), "ingest-mail-pack-"));
    // The test run has just built dist/ (npm test); `npm pack` alone would run the same build (prepack).
    const pack = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], root);
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    for (const f of ["bin/ingest-mail.js", "bin/package.json", "dist/bundle/ingest-mail.cjs", "dist/bundle/prepare-worker.cjs", "dist/man/ingest-mail.1", "dist/completion/ingest-mail.bash", "dist/completion/_ingest-mail", "drizzle/sqlite/meta/_journal.json", "drizzle/postgres/meta/_journal.json", "package.json", "README.md"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|fixtures|node_modules)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.scripts.prepack).toMatch(/npm run build/);

    const prefix = join(tmp, "prefix");
    const installWith = (mode: string) => npm(["install", "-g", "--prefix", prefix, mode, "--no-audit", "--no-fund", ...(full ? ["--allow-scripts=better-sqlite3"] : ["--ignore-scripts"]), join(tmp, info.filename)], tmp);
    // A global install resolves the dependencies' metadata afresh, which `npm ci` never caches (it
    // installs from the lock's tarball URLs): where the cache lacks it, ask the registry once.
    let install = await installWith("--offline");
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) install = await installWith("--prefer-offline");
    if (install.status !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(install.stderr)) {
      console.warn(`[package] skipped: the npm cache lacks a dependency and the registry is out of reach: ${install.stderr.split("\n").find((l) => /npm error (code|request)/.test(l))}`);
      return ctx.skip();
    }
    expect(install.status, install.stderr).toBe(0);
    const installed = join(prefix, "lib", "node_modules", "ingest-mail");
    if (!full) {
      const addon = join("node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
      mkdirSync(dirname(join(installed, addon)), { recursive: true });
      copyFileSync(join(root, addon), join(installed, addon));
    }

    const dir = join(tmp, "run");
    mkdirSync(dir);
    const env = { PATH: `${join(prefix, "bin")}:${process.env.PATH}`, HOME: dir, LANG: "C", NO_COLOR: "1", INGEST_MAIL_DB: join(dir, "ingest.db"), INGEST_MAIL_SYSTEM_CONFIG: join(dir, "none.json") };
    // Run from the prefix's bin, as an MTA would run it from its PATH.
    const run = (args: string[], input?: Buffer) => spawnSync("ingest-mail", args, { cwd: dir, env, input, encoding: "utf8" });

    const version = run(["--version"]);
    expect(version.stdout).toMatch(/^0\.1\.0 \(schema \d+\)\n$/);
    expect(version.stderr).toBe("");
    const ingested = run(["--json"], readFileSync(fixture("html-only-converted-to-text.eml")));
    expect(ingested.status, ingested.stderr).toBe(0);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ status: "complete", issues: [{ created: true }] });
    const list = run(["list", "--json"]);
    expect(list.status, list.stderr).toBe(0);
    expect(run(["doctor"]).status).toBe(0);
    expect(run(["completion", "bash"]).stdout).toContain("complete -o default -F _ingest_mail ingest-mail");
    // npm links the man page where man(1) finds it: PREFIX/share/man/man1.
    expect(readFileSync(join(prefix, "share", "man", "man1", "ingest-mail.1"), "utf8")).toMatch(/^\.TH INGEST\\-MAIL 1/);
    expect(existsSync(join(installed, "dist", "src"))).toBe(false);
    // Each engine's migrations (issue 11).
    for (const engine of ["sqlite", "postgres"]) expect(readdirSync(join(installed, "drizzle", engine)).some((f) => f.endsWith(".sql"))).toBe(true);
  }, 900_000);
});
