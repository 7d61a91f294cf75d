// The PostgreSQL engine against a real server (issue 11.7): how it connects (unix socket, libpq's
// environment variables), what it refuses, what it reports, and its faults: a stopped server, a
// killed connection, a lock or a pool that does not free up — a StorageFault (75), never a hang.
import { connect, createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DatabaseRefusedError, NotFoundError, StorageFault } from "../../src/errors.js";
import type { Store } from "../../src/store/store.js";
import { deferred, waitForHeldLock } from "../helpers/lock-wait.js";
import { postgresUnavailable, startPostgres, testServer, withClient, type TestServer } from "../helpers/postgres.js";

const unavailable = postgresUnavailable();
const { connectFloorMs, openPostgresStore, UniqueViolation } = await import("../../src/store/postgres/engine.js");
const open = (url: string, opts: { busyTimeoutMs?: number; readonly?: boolean; poolSize?: number } = {}) => openPostgresStore(url, { busyTimeoutMs: 5000, ...opts });

/** A plain client for what the test itself does to the database. */
const admin = withClient;

describe.skipIf(unavailable)("PostgreSQL engine on a server", () => {
  let server: TestServer;
  let url: string;
  let store: Store;

  beforeAll(async () => {
    server = await testServer();
    url = await server.createDatabase();
    store = await open(url);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it("connects over a unix socket: postgresql:///DB?host=/folder", async ({ skip }) => {
    if (!server.socketUrl) skip("the server's socket folder is not known (INGEST_MAIL_TEST_PG_SOCKET)");
    const name = new URL(url).pathname.slice(1);
    const s = await open(server.socketUrl!(name));
    expect(await s.get(`SELECT current_database() AS "db"`)).toEqual({ db: name });
    await s.close();
  });

  it("takes what the URL leaves out from libpq's variables (PGHOST, PGPORT, PGUSER, PGDATABASE)", async () => {
    const u = new URL(url);
    const socket = server.socketUrl ? new URL(server.socketUrl("x")).searchParams.get("host")! : undefined;
    const vars = { PGHOST: socket ?? u.hostname, PGPORT: u.port || "5432", PGUSER: decodeURIComponent(u.username) || "postgres", PGDATABASE: u.pathname.slice(1) };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      const s = await open("postgresql://");
      expect(await s.get(`SELECT current_database() AS "db", current_user AS "user"`)).toEqual({ db: vars.PGDATABASE, user: vars.PGUSER });
      await s.close();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("names the database without its password", async () => {
    const u = new URL(url);
    u.password = "s3cret"; // trust authentication: the server does not ask for it
    const s = await open(u.toString());
    expect(s.location).not.toContain("s3cret");
    expect(s.location).toContain(u.pathname);
    await s.close();
  });

  it("describes the server and the database; checks and compacts it", async () => {
    const d = await store.describe();
    expect(d).toMatchObject({ engine: "postgres", database: new URL(url).pathname.slice(1), schema: "public" });
    expect(d.schemaVersion).toBe(d.programSchemaVersion);
    expect(d.sizeBytes).toBeGreaterThan(0);
    expect(String(d.serverVersion)).toMatch(/^\d+/);
    expect(await store.integrityCheck()).toBe("ok");
    expect(await store.compact()).toEqual({ checkpoint: "done" }); // superuser here
  });

  it("integrityCheck() names a missing index", async () => {
    const u = await server.createDatabase();
    const s = await open(u);
    await s.run(`DROP INDEX interactions_staged_idx`);
    expect(await s.integrityCheck()).toMatch(/missing indexes: interactions_staged_idx/);
    await s.close();
  });

  it("stores the raw mail as bytea, ids from an identity sequence", async () => {
    const cols = await store.all<{ column_name: string; data_type: string; is_identity: string }>(
      `SELECT column_name, data_type, is_identity FROM information_schema.columns WHERE table_name = 'staged_mails' AND column_name IN ('id', 'raw', 'raw_truncated') ORDER BY column_name`,
    );
    expect(cols).toEqual([
      { column_name: "id", data_type: "integer", is_identity: "YES" },
      { column_name: "raw", data_type: "bytea", is_identity: "NO" },
      { column_name: "raw_truncated", data_type: "integer", is_identity: "NO" },
    ]);
  });

  it("lockKey() outside a transaction is a mistake, said at once", async () => {
    await expect(store.lockKey("k")).rejects.toThrow(/outside a transaction/);
  });

  it("a duplicate key without ON CONFLICT throws UniqueViolation", async () => {
    await store.run(`INSERT INTO settings (key, value) VALUES ('dup', 'a')`);
    const e = await store.run(`INSERT INTO settings (key, value) VALUES ('dup', 'b')`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UniqueViolation);
    expect((e as InstanceType<typeof UniqueViolation>).constraint).toBe("settings_pkey");
  });

  it("a transaction whose failed statement was caught does not pretend to commit", async () => {
    await expect(
      store.write(async (tx) => {
        await tx.run(`INSERT INTO settings (key, value) VALUES ('aborted', 'x')`);
        await tx.run(`SELECT no_such_column FROM settings`).catch(() => {});
        return "done";
      }),
    ).rejects.toThrow(/rolled back/);
    expect(await store.get(`SELECT value FROM settings WHERE key = 'aborted'`)).toBeUndefined();
  });

  it("commits staging durably and the rest without waiting for the WAL flush", async () => {
    const setting = (durable: boolean) => store.write(async (tx) => (await tx.get<{ s: string }>(`SELECT current_setting('synchronous_commit') AS "s"`))!.s, { durable });
    expect(await setting(true)).toBe("on");
    expect(await setting(false)).toBe("off");
  });

  it("a database that does not exist is 66 and a refused login 78 for admin commands, not an internal fault", async () => {
    const missing = await open(url.replace(/\/([^/?]+)(\?|$)/, "/no_such_db_here$2")).catch((x: unknown) => x);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).exitCode).toBe(66);
    expect(String(missing)).toMatch(/no_such_db_here.*does not exist.*createdb/);
    const u = new URL(url);
    u.username = "no_such_role";
    const refused = await open(u.toString()).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).exitCode).toBe(78);
    expect(String(refused)).toMatch(/login refused: role "no_such_role" does not exist/);
  });

  it("refuses a database holding another program's tables", async () => {
    const u = await server.createDatabase();
    await admin(u, (c) => c.query(`CREATE TABLE wp_posts (id integer)`));
    await expect(open(u)).rejects.toThrow(DatabaseRefusedError);
    await expect(open(u)).rejects.toThrow(/another program \(wp_posts\)/);
  });

  it("readonly: refuses a database without our schema, and writes nothing", async () => {
    await expect(open(await server.createDatabase(), { readonly: true })).rejects.toThrow(DatabaseRefusedError);
    const s = await open(url, { readonly: true });
    expect(await s.get(`SELECT count(*) AS "n" FROM staged_mails`)).toEqual({ n: 0 });
    await expect(s.write((tx) => tx.run(`INSERT INTO settings (key, value) VALUES ('ro', 'x')`))).rejects.toThrow(/read-only/);
    await s.close();
  });

  it("a lock held past busyTimeoutMs is a StorageFault (55P03), not a hang", async () => {
    const s = await open(url, { busyTimeoutMs: 300 });
    const { error: e, ms } = await waitForHeldLock(s, (tx) => tx.lockKey("busy"));
    expect(e).toBeInstanceOf(StorageFault);
    expect((e as StorageFault).code).toBe("55P03");
    expect(ms).toBeLessThan(3000);
    await s.close();
  });

  it("no free connection within busyTimeoutMs (at least connectFloorMs) is a StorageFault", async () => {
    const s = await open(url, { busyTimeoutMs: 300, poolSize: 1 });
    const release = deferred();
    const held = deferred();
    const a = s.write(async () => {
      held.resolve();
      await release.promise;
    });
    await held.promise;
    const started = Date.now();
    const e = await s.get(`SELECT 1`).catch((x: unknown) => x);
    const waited = Date.now() - started;
    release.resolve();
    await a;
    expect(e).toBeInstanceOf(StorageFault);
    expect((e as Error).message).toMatch(/timeout acquiring a connection/);
    expect(waited).toBeGreaterThanOrEqual(connectFloorMs - 100); // the floor, not the 300 ms
    await s.close();
  });

  it("a server slower to connect than a short busyTimeoutMs is still reached (the connect floor)", async () => {
    // A relay that holds each new connection 400 ms before it passes it on: a loaded server
    // starting a backend. busyTimeoutMs 100 is a budget for locks, not for this.
    const target = new URL(url);
    const relay = createServer((c) => {
      c.pause();
      c.on("error", () => {});
      setTimeout(() => {
        const up = connect(Number(target.port), target.hostname, () => {
          c.pipe(up);
          up.pipe(c);
        });
        up.on("error", () => c.destroy());
        c.on("close", () => up.destroy());
      }, 400);
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    const via = new URL(url);
    via.hostname = "127.0.0.1";
    via.port = String((relay.address() as AddressInfo).port);
    try {
      const s = await open(via.toString(), { busyTimeoutMs: 100 });
      expect(await s.get(`SELECT 1 AS "one"`)).toEqual({ one: 1 });
      await s.close();
    } finally {
      relay.close();
    }
  });

  it("a connection the server ends inside a transaction is a StorageFault; the next one works", async () => {
    const e = await store
      .write(async (tx) => {
        const { pid } = (await tx.get<{ pid: number }>(`SELECT pg_backend_pid() AS "pid"`))!;
        await admin(url, (c) => c.query(`SELECT pg_terminate_backend($1)`, [pid]));
        await tx.get(`SELECT 1`);
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StorageFault);
    expect(await store.get(`SELECT 1 AS "one"`)).toEqual({ one: 1 });
  });

  it("nothing listening (a port, a socket folder) is a StorageFault naming the database", async () => {
    const refused = await open("postgresql://u:s3cret@127.0.0.1:9/db", { busyTimeoutMs: 2000 }).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(StorageFault);
    expect((refused as StorageFault).code).toBe("ECONNREFUSED");
    expect((refused as Error).message).toContain("postgresql://u@127.0.0.1:9/db");
    expect((refused as Error).message).not.toContain("s3cret");
    const noSocket = await open("postgresql:///db?host=/nonexistent-folder", { busyTimeoutMs: 2000 }).catch((x: unknown) => x);
    expect(noSocket).toBeInstanceOf(StorageFault);
    expect((noSocket as StorageFault).code).toBe("ENOENT");
  });
});

describe.skipIf(unavailable)("PostgreSQL engine, its server stopped", () => {
  it("every call is a StorageFault once the server is gone", async () => {
    const server = await startPostgres();
    try {
      const s = await open(await server.createDatabase(), { busyTimeoutMs: 2000 });
      expect(await s.get(`SELECT 1 AS "one"`)).toEqual({ one: 1 });
      await server.stop();
      for (const call of [() => s.get(`SELECT 1`), () => s.write((tx) => tx.run(`SELECT 1`)), () => s.read((tx) => tx.get(`SELECT 1`))])
        await expect(call()).rejects.toBeInstanceOf(StorageFault);
      await s.close();
    } finally {
      await server.stop();
    }
  }, 60_000);
});

if (unavailable) describe("PostgreSQL engine on a server", () => it.skip(`skipped: ${unavailable}`, () => {}));
