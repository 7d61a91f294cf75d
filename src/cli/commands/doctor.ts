// `ingest-mail doctor [--as USER] [--json]` (issue 14): checks the installation as the delivery user
// (default: the database's owner) and prints one row per check with the fix. Exit 0 only when
// nothing fails; 78 otherwise (the installation needs fixing), 64 for an unknown --as user.
import { resolve } from "node:path";
import { ConfigError, UsageError } from "../../errors.js";
import type { CheckResult } from "../../doctor/checks.js";
import { defaultConfig, type Config } from "../../config.js";
import { isDatabaseUrl } from "../../store/open.js";
import { databaseTarget, defaultDataDir, loadCommonConfig, printJson, type CommonOptions } from "../context.js";
import { colours, table } from "../output.js";
import { currentUser, lookupUser, ownerOf, switchTo, type PasswdEntry } from "../run-as.js";

export interface DoctorOptions extends CommonOptions {
  as?: string;
  timeout?: number;
}

export async function run(opts: DoctorOptions): Promise<void> {
  // Whatever the checks open (a read-only database may create its -shm) stays private.
  process.umask(0o077);
  const env = process.env;
  // The database as the other commands find it; a configuration that does not load is reported by
  // its own check (and read again as the delivery user there).
  const database = databaseTarget(opts, configOrDefaults(opts, env), env);
  const url = isDatabaseUrl(database);
  const dbPath = url ? database : resolve(database);
  const me = currentUser();
  let target: PasswdEntry | null;
  if (opts.as !== undefined) {
    target = lookupUser(opts.as);
    if (!target) throw new UsageError(`doctor: no such user "${opts.as}"`);
  } else target = (url ? null : ownerOf(dbPath)) ?? me;

  const { runDoctor } = await import("../../doctor/run.js");
  let userCheck: CheckResult;
  const who = (u: PasswdEntry) => `${u.name} (uid ${u.uid})`;
  const why = opts.as !== undefined ? "as asked" : "the database owner";
  if (target.uid === me.uid) userCheck = { id: "user", status: "pass", detail: `checks run as ${who(me)}, ${why}`, fix: null };
  else if (me.uid === 0) {
    // The database driver's native part is loaded before dropping root: the package may sit where
    // the delivery user cannot read.
    if (!url) (await import("../../store/sqlite/engine.js")).loadSqliteDriver();
    switchTo(target, env);
    userCheck = { id: "user", status: "pass", detail: `checks run as ${who(target)}, ${why} (switched from root)`, fix: null };
  } else {
    userCheck = { id: "user", status: "warn", detail: `checks run as ${who(me)}, not as ${who(target)} (${why})`, fix: "run it as root (sudo ingest-mail doctor) to check as the delivery user" };
    target = me;
  }

  const report = await runDoctor({ dbPath, dataDir: defaultDataDir(env), configPath: opts.config, env, user: target, timeoutMs: (opts.timeout ?? 5) * 1000, now: new Date() });
  const checks = [userCheck, ...report.checks];
  const failed = checks.filter((c) => c.status === "fail");
  const counts = { pass: checks.filter((c) => c.status === "pass").length, warn: checks.filter((c) => c.status === "warn").length, fail: failed.length };
  if (opts.json) printJson({ ok: failed.length === 0, user: { name: target.name, uid: target.uid, gid: target.gid }, dbPath: report.dbPath, config: report.config, counts, checks });
  else {
    const c = colours();
    const mark = { pass: c.green("pass"), warn: c.yellow("warn"), fail: c.red("FAIL") };
    const rows = checks.map((r) => [mark[r.status], r.id, r.detail, r.fix ?? ""]);
    process.stdout.write(`${table(["", "CHECK", "RESULT", "FIX"], rows)}\n\n${counts.pass} pass, ${counts.warn} warn, ${counts.fail} fail\n`);
  }
  if (failed.length) throw new ConfigError(`doctor: ${failed.length} check(s) failed: ${failed.map((f) => f.id).join(", ")}`);
}

function configOrDefaults(opts: CommonOptions, env: NodeJS.ProcessEnv): Config {
  try {
    return loadCommonConfig(opts, env);
  } catch {
    return defaultConfig;
  }
}
