// Issue 11.9, the PostgreSQL engine side by side with SQLite, on a private server started here
// (unix socket, as a mail host next to its database would use): cold ingest against `node -e 0`
// under an MTA's minimal environment (target ≤ 2.5×; SQLite ≤ 2.0×), the statements (round trips)
// one mail costs, and `import` of 10,000 4 KB mails as a whole run (target ≥ 1,000 msg/s).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { postgresUnavailable, startPostgres } from "../test/helpers/postgres.js";
import { benchImport, describeImport } from "./import.js";
import { mail4k, median, tempDir } from "./measure.js";

const bin = join(process.cwd(), "bin", "ingest-mail.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const IMPORT = Number(process.env.BENCH_PG_IMPORT ?? 10_000);

export async function run(): Promise<string> {
  const missing = postgresUnavailable();
  if (missing) return `skipped: ${missing}`;
  const server = await startPostgres();
  try {
    const lines: string[] = [];
    const dir = tempDir("pg");
    const socket = server.socketUrl(await dbName(server, "cold"));
    const env = (db: string) => ({ PATH: "/usr/bin:/bin", HOME: dir, INGEST_MAIL_DB: db });
    const spawnMs = (args: string[], e: NodeJS.ProcessEnv, input?: Buffer) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, args, { env: e, input });
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
      return performance.now() - t;
    };
    // Warm the page cache and create both databases first; then interleaved, one of each per round.
    spawnMs([bin], env(join(dir, "cold.db")), mail4k(-1));
    spawnMs([bin], env(socket), mail4k(-2));
    const node: number[] = [];
    const sqlite: number[] = [];
    const postgres: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      node.push(spawnMs(["-e", "0"], env("")));
      sqlite.push(spawnMs([bin], env(join(dir, "cold.db")), mail4k(i)));
      postgres.push(spawnMs([bin], env(socket), mail4k(10_000 + i)));
    }
    const n = median(node);
    lines.push(
      `cold ingest of a 4 KB mail, median of ${RUNS}, env -i: node -e 0 ${n.toFixed(1)} ms; SQLite ${median(sqlite).toFixed(1)} ms (${(median(sqlite) / n).toFixed(2)}×, target ≤ 2.0); ` +
        `PostgreSQL over a unix socket ${median(postgres).toFixed(1)} ms (${(median(postgres) / n).toFixed(2)}×, target ≤ 2.5)`,
    );
    lines.push(await roundTrips(server, dir, env));
    const url = await server.createDatabase(`import_${Date.now().toString(36)}`);
    lines.push(`PostgreSQL ${describeImport(benchImport(IMPORT, 4096, undefined, server.socketUrl(new URL(url).pathname.slice(1))))}`);
    return lines.join("\n");
  } finally {
    await server.stop();
  }
}

async function dbName(server: Awaited<ReturnType<typeof startPostgres>>, prefix: string): Promise<string> {
  const url = await server.createDatabase(`${prefix}_${Date.now().toString(36)}`);
  return new URL(url).pathname.slice(1);
}

/** Statements the server logs for one new mail and one reply (each statement is one round trip). */
async function roundTrips(server: Awaited<ReturnType<typeof startPostgres>>, dir: string, env: (db: string) => NodeJS.ProcessEnv): Promise<string> {
  const name = await dbName(server, "trips");
  const url = server.socketUrl(name);
  spawnSync(process.execPath, [bin], { env: env(url), input: mail4k(-3) });
  const psql = (sql: string) => spawnSync("psql", [url, "-c", sql], { encoding: "utf8" });
  psql(`ALTER DATABASE "${name}" SET log_statement = 'all'`);
  const count = (input: Buffer) => {
    const before = readFileSync(server.logFile, "utf8").length;
    spawnSync(process.execPath, [bin], { env: env(url), input });
    return (readFileSync(server.logFile, "utf8").slice(before).match(/LOG: {2}(statement|execute)/g) ?? []).length;
  };
  const fresh = count(mail4k(20_001));
  const reply = count(mail4k(20_002, { subject: "Re: [CS-000001] more" }));
  psql(`ALTER DATABASE "${name}" RESET log_statement`);
  void dir;
  return `round trips per mail on PostgreSQL (statements the server logged; connecting adds its own): a new mail ${fresh}, a reply ${reply}`;
}
