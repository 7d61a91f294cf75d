// Issue 11.9, the PostgreSQL engine side by side with SQLite, on a private server started here
// (unix socket, as a mail host next to its database would use): cold ingest against `node -e 0`
// under an MTA's minimal environment (target ≤ 2.5×; SQLite ≤ 2.0×), the statements and round trips
// one mail costs, and `import` of 10,000 4 KB mails as a whole run (target ≥ 1,000 msg/s).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { pgbouncerUnavailable, startPgBouncer, type PgBouncer } from "../test/helpers/pgbouncer.js";
import { postgresUnavailable, startPostgres } from "../test/helpers/postgres.js";
import { benchImport, describeImport } from "./import.js";
import { mail4k, median, onStdinFile, tempDir } from "./measure.js";

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
    // The mail in a file on stdin, as an MTA gives it (a file or a pipe): not Node's socket, which
    // costs the ingest ~6 ms of loading net that no MTA delivery pays (bench/cold-start.ts).
    const spawnMs = (args: string[], e: NodeJS.ProcessEnv, input?: Buffer) => {
      const go = (stdin: number | "ignore") => {
        const t = performance.now();
        const r = spawnSync(process.execPath, args, { env: e, stdio: [stdin, "pipe", "pipe"] });
        if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
        return performance.now() - t;
      };
      return input === undefined ? go("ignore") : onStdinFile(dir, input, go);
    };
    // Beside it, when Debian's pgbouncer is installed: the same database through PgBouncer in session
    // pooling (its server connections stay open between deliveries, so each mail's backend is warm).
    const noBouncer = pgbouncerUnavailable();
    let bouncer: PgBouncer | undefined;
    try {
      bouncer = noBouncer ? undefined : await startPgBouncer(server.url, "session");
      const pooled = bouncer?.url(new URL(socket).pathname.slice(1));
      // Warm the page cache and create both databases first; then interleaved, one of each per round.
      spawnMs([bin], env(join(dir, "cold.db")), mail4k(-1));
      spawnMs([bin], env(socket), mail4k(-2));
      if (pooled) spawnMs([bin], env(pooled), mail4k(-4));
      const node: number[] = [];
      const sqlite: number[] = [];
      const postgres: number[] = [];
      const throughPool: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        node.push(spawnMs(["-e", "0"], env("")));
        sqlite.push(spawnMs([bin], env(join(dir, "cold.db")), mail4k(i)));
        postgres.push(spawnMs([bin], env(socket), mail4k(10_000 + i)));
        if (pooled) throughPool.push(spawnMs([bin], env(pooled), mail4k(30_000 + i)));
      }
      const n = median(node);
      const paired = (xs: number[]) => median(xs.map((x, i) => x / node[i])).toFixed(2);
      lines.push(
        `cold ingest of a 4 KB mail in a file on stdin, median of ${RUNS}, env -i: node -e 0 ${n.toFixed(1)} ms; SQLite ${median(sqlite).toFixed(1)} ms (${(median(sqlite) / n).toFixed(2)}×, paired ${paired(sqlite)}×, target ≤ 2.0); ` +
          `PostgreSQL over a unix socket ${median(postgres).toFixed(1)} ms (${(median(postgres) / n).toFixed(2)}×, paired ${paired(postgres)}×, target ≤ 2.5); ` +
          (pooled ? `through PgBouncer (session pooling) ${median(throughPool).toFixed(1)} ms (${(median(throughPool) / n).toFixed(2)}×, paired ${paired(throughPool)}×)` : `PgBouncer: ${noBouncer}`),
      );
    } finally {
      await bouncer?.stop();
    }
    lines.push(await roundTrips(server, dir, env));
    const url = await server.createDatabase(`import_${Date.now().toString(36)}`);
    lines.push(`PostgreSQL ${describeImport(benchImport(IMPORT, 4096, undefined, server.socketUrl(new URL(url).pathname.slice(1))), { loop: "", whole: "target ≥ 1,000 for 10,000 mails" })}`);
    return lines.join("\n");
  } finally {
    await server.stop();
  }
}

async function dbName(server: Awaited<ReturnType<typeof startPostgres>>, prefix: string): Promise<string> {
  const url = await server.createDatabase(`${prefix}_${Date.now().toString(36)}`);
  return new URL(url).pathname.slice(1);
}

/**
 * For one new mail and one reply: the statements the server logs, and the round trips they took.
 * Statements nobody waits for go with the next one (the engine's pipelining), so a round trip is
 * counted as one write of the client's reaching the server: the client connects through a
 * counting relay on a unix socket of its own.
 */
async function roundTrips(server: Awaited<ReturnType<typeof startPostgres>>, dir: string, env: (db: string) => NodeJS.ProcessEnv): Promise<string> {
  const name = await dbName(server, "trips");
  const url = server.socketUrl(name);
  spawnSync(process.execPath, [bin], { env: env(url), input: mail4k(-3) });
  const psql = (sql: string) => spawnSync("psql", [url, "-c", sql], { encoding: "utf8" });
  psql(`ALTER DATABASE "${name}" SET log_statement = 'all'`);
  const relay = await countingRelay(join(server.socketDir, `.s.PGSQL.${server.port}`), join(dir, "relay"), server.port);
  const relayed = `postgresql:///${name}?host=${encodeURIComponent(relay.dir)}&port=${server.port}&user=postgres`;
  const count = async (input: Buffer) => {
    const before = readFileSync(server.logFile, "utf8").length;
    relay.writes = 0;
    const child = spawn(process.execPath, [bin], { env: env(relayed), stdio: ["pipe", "ignore", "ignore"] });
    child.stdin.end(input);
    await new Promise((r) => child.on("close", r));
    const statements = (readFileSync(server.logFile, "utf8").slice(before).match(/LOG: {2}(statement|execute)/g) ?? []).length;
    return `${statements} statements in ${relay.writes - relay.connection} round trips`;
  };
  try {
    const fresh = await count(mail4k(20_001));
    const reply = await count(mail4k(20_002, { subject: "Re: [CS-000001] more" }));
    return `PostgreSQL per mail (the server's log; the relay's count of the client's writes; connecting adds its own): a new mail ${fresh}, a reply ${reply}`;
  } finally {
    relay.close();
    psql(`ALTER DATABASE "${name}" RESET log_statement`);
  }
}

/** A unix socket that passes a client's bytes to `target` and back, counting the client's writes. */
async function countingRelay(target: string, dir: string, port: number) {
  mkdirSync(dir, { recursive: true });
  const state = { dir, writes: 0, /** Writes that open or close a connection. */ connection: 0, close: () => listener.close() };
  const listener = createServer((client) => {
    const upstream = connect(target);
    let first = true;
    client.on("data", (chunk) => {
      state.writes++;
      // The startup message (its length, then protocol 3.0) opens a connection, Terminate ('X',
      // length 4) closes it: both are the connection's.
      if (first && chunk.length >= 8 && chunk.readUInt32BE(4) === 196608) state.connection++;
      if (chunk.length === 5 && chunk[0] === 0x58) state.connection++;
      first = false;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("close", () => upstream.end());
    upstream.on("close", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => listener.listen(join(dir, `.s.PGSQL.${port}`), r));
  return state;
}
