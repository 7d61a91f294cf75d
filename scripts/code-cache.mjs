// Makes dist/bundle/ingest-mail.cjs.cache, V8's code cache of the bundle as it stands after ingesting
// typical mail (a new request, then replies), so bin/ingest-mail.js starts without parsing and
// compiling what the MTA's plain ingest runs (issue 5, cold start). Part of `npm run build`, after
// scripts/bundle.mjs. The cache fits only this bundle (content hash) and this Node version (V8
// rejects it otherwise, and the launcher then compiles as usual): rebuild after upgrading Node.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cacheFile = join(root, "dist", "bundle", "ingest-mail.cjs.cache");
const fixture = (name) => readFileSync(join(root, "fixtures", name), "latin1");
const request = fixture("new-mail-opens-issue.eml");
// The customer's reply to it, matched by the reference in the subject (the request opens
// CS-000002: the first run below opens CS-000001).
const reply = request
  .replace(/^Message-ID: .*$/im, "Message-ID: <code-cache-reply@customer.example>\nIn-Reply-To: <new-mail-opens-issue@customer.example>")
  .replace(/^Subject: (.*)$/im, "Subject: Re: [CS-000002] $1");
// Each run loads the cache the one before wrote and adds what it compiled itself.
// A one-part mail never reaches mailparser (src/pipeline/parse-simple.ts): a multipart one does, so
// its code is in the cache too.
const training = [request, reply, fixture("html-only-converted-to-text.eml"), fixture("reply-new-text-outlook-german-html.eml")];

rmSync(cacheFile, { force: true });
const dir = mkdtempSync(join(tmpdir(), "ingest-mail-code-cache-"));
try {
  const env = { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1", INGEST_MAIL_DB: join(dir, "ingest.db") };
  // A database that exists and is migrated, as on a running server: migrating is not the common case.
  const run = (mail, mode, db = env.INGEST_MAIL_DB) => {
    const r = spawnSync(process.execPath, [join(root, "bin", "ingest-mail.js")], { input: Buffer.from(mail, "latin1"), env: { ...env, INGEST_MAIL_DB: db, INGEST_MAIL_CODE_CACHE: mode }, encoding: "utf8" });
    if (r.status !== 0 || (mode !== "check" && r.stderr)) throw new Error(`code-cache: ingest exited ${r.status}: ${r.stderr}`);
    return r.stderr;
  };
  run(fixture("new-mail-to-default-route.eml"), "off");
  for (const mail of training) run(mail, "write");
  const check = run(fixture("new-mail-to-billing-route.eml"), "check");
  if (check !== "code cache: used\n") throw new Error(`code-cache: ${cacheFile} was written but not used: ${check}`);
  await trainPostgres(run);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * dist/bundle/postgres.cjs.cache, the PostgreSQL engine's own (issue 11: ~14 ms of a cold ingest on
 * PostgreSQL), trained against a private server (the tests' helper: initdb in a temporary folder)
 * where this machine has PostgreSQL's server binaries. Without them, or if the server does not
 * start, the build goes on and the engine is compiled at run time as before. The main bundle's
 * cache stays the one trained above: the SQLite path is the one every start must be quick for.
 */
async function trainPostgres(run) {
  const pgCache = join(root, "dist", "bundle", "postgres.cjs.cache");
  rmSync(pgCache, { force: true });
  const { findPostgresBin, postgresUnavailable, startPostgres } = await import(join(root, "dist", "test", "helpers", "postgres.js"));
  const missing = findPostgresBin() ? postgresUnavailable() : "no PostgreSQL server binaries (initdb, pg_ctl)";
  if (missing) return void console.log(`code-cache: postgres.cjs gets no code cache here: ${missing}`);
  const mainCache = readFileSync(cacheFile);
  let server;
  try {
    server = await startPostgres();
    const name = "code_cache";
    await server.createDatabase(name);
    const db = server.socketUrl(name);
    run(fixture("new-mail-to-default-route.eml"), "off", db);
    for (const mail of [request, reply]) run(mail, "write", db);
    const check = run(fixture("new-mail-to-billing-route.eml"), "check", db);
    if (!check.includes("code cache (postgres.cjs): used\n")) throw new Error(`${pgCache} was written but not used: ${check}`);
  } catch (e) {
    rmSync(pgCache, { force: true });
    console.log(`code-cache: postgres.cjs gets no code cache here: ${e.message}`);
  } finally {
    writeFileSync(cacheFile, mainCache);
    await server?.stop();
  }
}
