// A private PostgreSQL server for the tests (issue 11.7): initdb in a temporary folder, trust
// authentication, a unix socket in that folder and 127.0.0.1 on a free port; run as an unprivileged
// user when we are root (CI and this machine are), as the server refuses to run as root. Stopped
// and removed by stop(). Tests that need a database create their own (createDatabase), so test
// files running at once never share tables.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The environment variable that names a running server's base URL (pg-global-setup.ts sets it). */
export const PG_ENV = "INGEST_MAIL_TEST_PG";
/** Its unix socket, as FOLDER:PORT (for the tests of socket URLs). */
export const PG_SOCKET_ENV = "INGEST_MAIL_TEST_PG_SOCKET";

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:PORT/postgres (TCP; the maintenance database). */
  url: string;
  /** Folder of the unix socket (.s.PGSQL.PORT). */
  socketDir: string;
  port: number;
  /** The server's log (bench: counting the statements of one ingest). */
  logFile: string;
  /** A new empty database; its TCP URL. */
  createDatabase(name?: string): Promise<string>;
  /** The same database over the unix socket: postgresql:///NAME?host=…&port=…&user=postgres. */
  socketUrl(name: string): string;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The folder of initdb, pg_ctl and postgres: $INGEST_MAIL_PG_BINDIR, else Debian's
 * /usr/lib/postgresql/<newest>/bin, else wherever `initdb` on the PATH really is (on Debian,
 * /usr/local/bin/initdb may be a link into /usr/lib/postgresql; /usr/bin has only the
 * pg_wrapper scripts of postgresql-common, which do not include initdb). Undefined when absent.
 */
export function findPostgresBin(): string | undefined {
  const ok = (dir: string) => ["initdb", "pg_ctl", "postgres"].every((b) => existsSync(join(dir, b)));
  const env = process.env.INGEST_MAIL_PG_BINDIR;
  if (env) return ok(env) ? env : undefined;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (ok(join(root, v, "bin"))) return join(root, v, "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) {
    const dir = join(realpathSync(which.stdout.trim()), "..");
    if (ok(dir)) return dir;
  }
  return undefined;
}

/** Why the tests that need a server skip here, or undefined when they can run. */
export function postgresUnavailable(): string | undefined {
  if (process.env[PG_ENV]) return undefined;
  if (!findPostgresBin()) return "no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql package (.ci/run does)";
  if (process.getuid?.() === 0 && !serverUser()) return "running as root and no unprivileged user (postgres, nobody) to run the server as";
  return undefined;
}

/** Root cannot run the server: the `postgres` user the Debian package made, else `nobody`. */
export function serverUser(): { name: string; uid: number; gid: number } | undefined {
  for (const name of ["postgres", "nobody"]) {
    const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
    if (r.status !== 0) continue;
    const gid = Number(spawnSync("id", ["-g", name], { encoding: "utf8" }).stdout.trim());
    return { name, uid: Number(r.stdout.trim()), gid };
  }
  return undefined;
}

const PREFIX = "ingest-mail-pg-";

/**
 * Servers of test runs that were killed before their teardown (their owner.pid is dead): stopped
 * and removed, so they do not pile up, each holding a port, shared memory and its folder.
 */
function reapStale(bin: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (!owner || isAlive(owner)) continue;
    if (existsSync(join(dir, "data", "postmaster.pid"))) spawnSync(join(bin, "pg_ctl"), ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"], { ...asOwnerOf(dir), stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** pg_ctl must run as the server's user (root: the folder's owner). */
function asOwnerOf(dir: string): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const st = statSync(dir);
  return { uid: st.uid, gid: st.gid };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts a server; throws where that cannot work (see postgresUnavailable()). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(postgresUnavailable());
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? serverUser() : undefined;
  if (asRoot && !user) throw new Error(postgresUnavailable());

  reapStale(bin);
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  const data = join(dir, "data");
  const socketDir = join(dir, "sock");
  mkdirSync(socketDir);
  // The server's user owns the folder; others may reach the socket (tests that drop root).
  chmodSync(dir, 0o755);
  chmodSync(socketDir, 0o755);
  if (user) for (const p of [dir, socketDir]) chownSync(p, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...process.env, LC_ALL: "C", TZ: "UTC", ...(user ? { HOME: dir, USER: user.name } : {}) };
  const run = (cmd: string, args: string[]) => execFileSync(join(bin, cmd), args, { ...as, env, cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });

  // Locale C: text compares by bytes and lower() folds ASCII only, as on SQLite (whose LIKE and
  // lower() fold ASCII only too). --no-sync: only initdb's own files, never the server's commits.
  run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
  const port = await freePort();
  appendFileSync(
    join(data, "postgresql.conf"),
    [
      "",
      "# test server (test/helpers/postgres.ts)",
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${socketDir}'`,
      // The two-host test runs 50 ingest processes at once, each with a connection or two.
      `max_connections = 200`,
      `shared_buffers = 32MB`,
      // fsync stays on: the tests measure durability (kill -9, never-lose).
      `logging_collector = off`,
      "",
    ].join("\n"),
  );
  const log = join(dir, "server.log");
  try {
    run("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "start"]);
  } catch (e) {
    const tail = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(e as Error).message}\n${tail}`);
  }

  let stopped = false;
  const base = `postgresql://postgres@127.0.0.1:${port}`;
  const server: PostgresServer = {
    url: `${base}/postgres`,
    socketDir,
    port,
    logFile: log,
    createDatabase: (name) => createDatabase(`${base}/postgres`, name),
    socketUrl: (name) => `postgresql:///${name}?host=${encodeURIComponent(socketDir)}&port=${port}&user=postgres`,
    dropDatabase: (name) => dropDatabase(`${base}/postgres`, name),
    async stop() {
      if (stopped) return;
      stopped = true;
      // immediate: no shutdown checkpoint, the folder is thrown away; fast if that did not work.
      for (const mode of ["immediate", "fast"]) {
        try {
          run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
          break;
        } catch {
          // try the next mode
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

let counter = 0;
/** A new database on the server at `maintenanceUrl` (a URL of its postgres database); its URL. */
export async function createDatabase(maintenanceUrl: string, name?: string): Promise<string> {
  const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  await withClient(maintenanceUrl, (c) => c.query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`));
  const u = new URL(maintenanceUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function dropDatabase(maintenanceUrl: string, name: string): Promise<void> {
  await withClient(maintenanceUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`));
}

/** A plain client for one job of the test itself, closed afterwards. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * For a test file: the server to use. The run's server (pg-global-setup.ts, env INGEST_MAIL_TEST_PG)
 * if there is one, else a server of the file's own (started here, stopped by the returned stop).
 */
export async function testServer(): Promise<TestServer> {
  const shared = process.env[PG_ENV];
  if (!shared) return startPostgres();
  const [socketDir, port] = (process.env[PG_SOCKET_ENV] ?? "").split(":");
  return {
    url: shared,
    createDatabase: (n) => createDatabase(shared, n),
    dropDatabase: (n) => dropDatabase(shared, n),
    socketUrl: socketDir ? (n) => `postgresql:///${n}?host=${encodeURIComponent(socketDir)}&port=${port}&user=postgres` : undefined,
    stop: async () => {},
  };
}

export interface TestServer {
  url: string;
  createDatabase(name?: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Undefined for a server of your own given in INGEST_MAIL_TEST_PG alone. */
  socketUrl?(name: string): string;
  stop(): Promise<void>;
}
