// Makes dist/bundle/ingest-mail.cjs.cache, V8's code cache of the bundle as it stands after ingesting
// typical mail (a new request, then replies), so bin/ingest-mail.js starts without parsing and
// compiling what the MTA's plain ingest runs (issue 5, cold start). Part of `npm run build`, after
// scripts/bundle.mjs. The cache fits only this bundle (content hash) and this Node version (V8
// rejects it otherwise, and the launcher then compiles as usual): rebuild after upgrading Node.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  const run = (mail, mode) => {
    const r = spawnSync(process.execPath, [join(root, "bin", "ingest-mail.js")], { input: Buffer.from(mail, "latin1"), env: { ...env, INGEST_MAIL_CODE_CACHE: mode }, encoding: "utf8" });
    if (r.status !== 0 || (mode !== "check" && r.stderr)) throw new Error(`code-cache: ingest exited ${r.status}: ${r.stderr}`);
    return r.stderr;
  };
  run(fixture("new-mail-to-default-route.eml"), "off");
  for (const mail of training) run(mail, "write");
  const check = run(fixture("new-mail-to-billing-route.eml"), "check");
  if (check !== "code cache: used\n") throw new Error(`code-cache: ${cacheFile} was written but not used: ${check}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
