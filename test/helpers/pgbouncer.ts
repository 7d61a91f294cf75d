// A PgBouncer of a test's own in front of the test server (Debian's pgbouncer package; .ci/run
// installs it): a unix socket in a temporary folder, trust authentication, the pool mode asked for.
// PgBouncer refuses to run as root, so under root it runs as the PostgreSQL server's user.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, serverUser } from "./postgres.js";

export interface PgBouncer {
  /** postgresql:///NAME through the pooler's unix socket. */
  url(database: string): string;
  stop(): Promise<void>;
}

function binary(): string | undefined {
  for (const p of ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Why no PgBouncer can be started here, or undefined. */
export function pgbouncerUnavailable(): string | undefined {
  if (!binary()) return "no pgbouncer binary; install Debian's pgbouncer package (.ci/run does)";
  if (process.getuid?.() === 0 && !serverUser()) return "running as root and no unprivileged user to run pgbouncer as";
  return undefined;
}

/** Starts PgBouncer in front of `serverUrl` (postgresql://user@host:port/…, TCP). */
export async function startPgBouncer(serverUrl: string, mode: "session" | "transaction"): Promise<PgBouncer> {
  const bin = binary();
  if (!bin) throw new Error(pgbouncerUnavailable());
  const target = new URL(serverUrl);
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-pgbouncer-"));
  const port = await freePort();
  const user = process.getuid?.() === 0 ? serverUser() : undefined;
  writeFileSync(join(dir, "users.txt"), `"${decodeURIComponent(target.username || "postgres")}" ""\n`);
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${target.hostname} port=${target.port} user=${decodeURIComponent(target.username || "postgres")}`,
      "[pgbouncer]",
      "listen_addr =",
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      "auth_type = trust",
      `auth_file = ${join(dir, "users.txt")}`,
      `pool_mode = ${mode}`,
      `logfile = ${join(dir, "pgbouncer.log")}`,
      "max_client_conn = 500",
      "default_pool_size = 20",
      "",
    ].join("\n"),
  );
  if (user) {
    chmodSync(dir, 0o755);
    for (const f of ["", "users.txt", "pgbouncer.ini"]) chownSync(join(dir, f), user.uid, user.gid);
  }
  const child: ChildProcess = spawn(bin, [join(dir, "pgbouncer.ini")], { ...(user ? { uid: user.uid, gid: user.gid } : {}), stdio: "ignore" });
  // A test run killed before its teardown leaves no pooler behind holding its port.
  const orphan = () => child.kill("SIGTERM");
  process.once("exit", orphan);
  const socket = join(dir, `.s.PGSQL.${port}`);
  for (let i = 0; !existsSync(socket); i++) {
    if (child.exitCode !== null || i > 100) {
      const log = existsSync(join(dir, "pgbouncer.log")) ? readFileSync(join(dir, "pgbouncer.log"), "utf8") : "";
      child.kill();
      throw new Error(`pgbouncer did not start (exit ${child.exitCode}): ${log.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: (database) => `postgresql:///${database}?host=${encodeURIComponent(dir)}&port=${port}&user=${encodeURIComponent(decodeURIComponent(target.username || "postgres"))}`,
    stop: async () => {
      process.off("exit", orphan);
      // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for its clients to leave).
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
