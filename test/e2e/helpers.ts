// Shared set-up for the end-to-end tests with real mail programs (procmail, Postfix, Dovecot):
// install them once (apt), run the built package as the unprivileged user of the examples, and
// give that user a database folder of its own.
import { idAddress } from "../../src/rules/address-ids.js";
import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { root } from "../helpers/cli.js";

export const setupScript = join(root, "test", "e2e", "setup-mta.sh");
/** The unprivileged user of examples/postfix/master.cf. */
export const INGEST_USER = "ingest-mail";

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** How to run them, in every skip message. */
export const HOW_TO_RUN = "INGEST_MAIL_E2E=1 npx vitest run test/e2e (as root on a Debian machine you may change; .ci/run sets it)";

/**
 * Why the real-MTA tests cannot run here, or null when they can (checked when the file loads). They
 * change the machine (apt-get installs, a system user, Postfix's /etc/postfix), so they run only when
 * asked: INGEST_MAIL_E2E=1 (issue 14).
 */
export const cannotRun: string | null = process.env.INGEST_MAIL_E2E !== "1"
  ? `they install procmail, Postfix and Dovecot and create a system user, so they run only with ${HOW_TO_RUN}`
  : !isRoot()
  ? "not root: the real procmail / Postfix / Dovecot tests need root (apt-get, daemons); they run in CI"
  : process.platform !== "linux" || !existsSync("/usr/bin/apt-get")
    ? "no apt-get: the real-MTA tests need a Debian machine"
    : null;

/** Runs setup-mta.sh without blocking the test worker (apt-get can take a minute). */
export function script(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [setupScript, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", (e) => (out += String(e)));
    // A daemon started by the script may hold its output pipes open: 'exit', not only 'close'.
    let done = false;
    const finish = (code: number | null) => {
      if (!done) resolve({ code: code ?? -1, out });
      done = true;
    };
    child.on("close", finish);
    child.on("exit", (code) => setTimeout(() => finish(code), 200));
  });
}

/** apt-get install (once per machine; later calls find nothing missing). Returns why it failed, or null. */
export async function install(): Promise<string | null> {
  const r = await script(["install"], {}, 600_000);
  if (r.code !== 0) return `apt-get install of procmail postfix dovecot-imapd dovecot-pop3d swaks failed (exit ${r.code}): ${r.out.trim().split("\n").slice(-3).join(" | ")}`;
  const user = await script(["user"], { INGEST_USER });
  if (user.code !== 0) return `cannot create user ${INGEST_USER}: ${user.out}`;
  return null;
}

const runsAs = (user: string, args: string[]) => spawnSync("runuser", ["-u", user, "--", ...args], { encoding: "utf8", cwd: "/" }).status === 0;

const copies: string[] = [];

/** Removes the package copies commandFor() made (call once the daemons using them are stopped). */
export function removeCopies(): void {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The command that runs the built ingest-mail as `user`: node + bin/ingest-mail.js from the work
 * tree when that user can read them, else from a copy in a folder anyone can read (the work tree
 * may sit under a private home folder).
 */
export function commandFor(user: string): string {
  const bin = join(root, "bin", "ingest-mail.js");
  if (runsAs(user, [process.execPath, bin, "--version"])) return `${process.execPath} ${bin}`;
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-pkg-"));
  copies.push(dir);
  chmodSync(dir, 0o755);
  for (const part of ["bin", "dist", "drizzle", "package.json"]) cpSync(join(root, part), join(dir, part), { recursive: true });
  // Hard links when on the same file system (fast), else a copy.
  if (spawnSync("cp", ["-al", join(root, "node_modules"), join(dir, "node_modules")]).status !== 0) cpSync(join(root, "node_modules"), join(dir, "node_modules"), { recursive: true });
  spawnSync("chmod", ["-R", "a+rX", dir]);
  let node = process.execPath;
  if (!runsAs(user, [node, "--version"])) {
    cpSync(node, join(dir, "node"));
    chmodSync(join(dir, "node"), 0o755);
    node = join(dir, "node");
  }
  const copied = join(dir, "bin", "ingest-mail.js");
  if (!runsAs(user, [node, copied, "--version"])) throw new Error(`user ${user} cannot run ${node} ${copied}`);
  return `${node} ${copied}`;
}

export interface MtaSandbox {
  /** Configs and logs of the daemons (readable by everyone). */
  dir: string;
  /** The database folder, owned by the ingest user. */
  dataDir: string;
  db: string;
  config: string;
  log: string;
  env: NodeJS.ProcessEnv;
}

/** A folder for one test file: the ingest user owns the database folder. */
/** Issue 10: ids in an address count from anyone only when signed, as the addresses we hand out
 * are; the tests sign with a secret of their own (the config's addressSecret). */
export const E2E_ADDRESS_SECRET = "e2e-address-secret";

/** The signed address a confirmation's Reply-To would carry for this issue. */
export function signedIdsAddress(uid: number, issueId: number): string {
  return idAddress("support@example.test", uid, issueId, E2E_ADDRESS_SECRET);
}

export function mtaSandbox(config: Record<string, unknown> = {}): MtaSandbox {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-e2e-"));
  chmodSync(dir, 0o755);
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  const uid = Number(spawnSync("id", ["-u", INGEST_USER], { encoding: "utf8" }).stdout.trim());
  if (Number.isInteger(uid)) chownSync(dataDir, uid, -1);
  const log = join(dataDir, "ingest-mail.log");
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify({ supportAddresses: ["support@example.test"], logFile: log, addressSecret: E2E_ADDRESS_SECRET, ...config }, null, 2));
  chmodSync(configPath, 0o644);
  const db = join(dataDir, "ingest.db");
  return { dir, dataDir, db, config: configPath, log, env: { PATH: process.env.PATH, LANG: "C", NO_COLOR: "1", INGEST_MAIL_DB: db, INGEST_MAIL_CONFIG: configPath } };
}

export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const readIf = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

/** A TCP port free on 127.0.0.1 right now (so a daemon left over by another run cannot clash). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const warned = new Set<string>();

/** Skips a test with the reason (said once per file), once the set-up found it cannot run here (not asked, not root, no apt...). */
export function skipWhen(reason: string | null, label: string, ctx: { skip: () => void }): void {
  if (reason) {
    if (!warned.has(label)) console.warn(`[${label} e2e] skipped: ${reason}`);
    warned.add(label);
    ctx.skip();
  }
}

/** Rows from the test database, opened read-only for the query (the MTA's process owns it). */
export function readDb<T = any>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const d = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return d.prepare(sql).all(...params) as T[];
  } finally {
    d.close();
  }
}
