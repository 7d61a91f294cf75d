// PostgreSQL behind PgBouncer (README "PostgreSQL"): PgBouncer refuses the startup parameters it
// does not know (our lock, statement and idle-transaction timeouts), so the store sets them with
// SET LOCAL at the start of each transaction instead, and a pooler never turns every delivery into
// a 75. In session and in transaction pooling: the store opens and migrates, each transaction runs
// with the timeouts (a lock held too long is still a StorageFault, not a hang), a readonly store's
// transactions are read-only, and mail goes through the built binary end to end, a reply included
// (transaction pooling loses named prepared statements between transactions: the engine retries
// unnamed).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageFault } from "../../src/errors.js";
import { waitForHeldLock } from "../helpers/lock-wait.js";
import { pgbouncerUnavailable, startPgBouncer, type PgBouncer } from "../helpers/pgbouncer.js";
import { postgresUnavailable, testServer, type TestServer } from "../helpers/postgres.js";
import { bin, readFixture } from "../helpers/cli.js";

const unavailable = postgresUnavailable() ?? pgbouncerUnavailable();
const { openPostgresStore } = await import("../../src/store/postgres/engine.js");

describe.skipIf(unavailable).each(["session", "transaction"] as const)("PostgreSQL through PgBouncer, %s pooling", (mode) => {
  let server: TestServer;
  let bouncer: PgBouncer;
  let url: string;

  beforeAll(async () => {
    server = await testServer();
    bouncer = await startPgBouncer(server.url, mode);
    url = bouncer.url(new URL(await server.createDatabase()).pathname.slice(1));
  }, 120_000);
  afterAll(async () => {
    await bouncer?.stop();
    await server?.stop();
  });

  it("opens (migrating a new database), and each transaction runs with the timeouts", async () => {
    const store = await openPostgresStore(url, { busyTimeoutMs: 1500 });
    const settings = await store.write(async (tx) => tx.get<Record<string, string>>(`SELECT current_setting('lock_timeout') AS "lock", current_setting('statement_timeout') AS "statement", current_setting('idle_in_transaction_session_timeout') AS "idle"`));
    expect(settings).toEqual({ lock: "1500ms", statement: "1min", idle: "1min" });
    expect(await store.read(async (tx) => tx.get(`SELECT current_setting('lock_timeout') AS "lock"`))).toEqual({ lock: "1500ms" });
    expect(await store.get(`SELECT count(*) AS "n" FROM staged_mails`)).toEqual({ n: 0 });
    await store.close();
  });

  it("a lock held past busyTimeoutMs is a StorageFault (55P03), not a hang", async () => {
    const store = await openPostgresStore(url, { busyTimeoutMs: 300 });
    const { error: e, ms } = await waitForHeldLock(store, (tx) => tx.lockKey("busy").then(() => tx.get(`SELECT 1 AS "one"`)));
    expect(e).toBeInstanceOf(StorageFault);
    expect((e as StorageFault).code).toBe("55P03");
    expect(ms).toBeLessThan(3000);
    await store.close();
  });

  it("a readonly store's transactions are read-only", async () => {
    const store = await openPostgresStore(url, { busyTimeoutMs: 1500, readonly: true });
    await expect(store.write((tx) => tx.run(`INSERT INTO settings (key, value) VALUES ('ro', 'x')`))).rejects.toThrow(/read-only/);
    await store.close();
  });

  it("mail goes through the built binary: a new issue, then a reply to it on the same issue", () => {
    const home = mkdtempSync(join(tmpdir(), "ingest-mail-pgbouncer-home-"));
    const env = { PATH: process.env.PATH, HOME: home, LANG: "C", INGEST_MAIL_DB: url, XDG_DATA_HOME: home };
    const ingest = (mail: Buffer) => spawnSync(process.execPath, [bin, "ingest", "--json"], { env, input: mail, encoding: "utf8" });
    const first = ingest(readFixture("new-mail-opens-issue.eml"));
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const opened = JSON.parse(first.stdout) as { status: string; issues: { reference: string; created: boolean }[] };
    expect(opened).toMatchObject({ status: "complete", issues: [{ created: true }] });
    const ref = opened.issues[0].reference;
    const reply = Buffer.from(`From: Alice Smith <alice@customer.example>\r\nTo: service@example.test\r\nSubject: Re: [${ref}] My order\r\nMessage-ID: <pgbouncer-reply-${mode}@customer.example>\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\n\r\nAny news?\r\n`);
    const second = ingest(reply);
    expect(second.stderr).toBe("");
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "complete", issues: [{ reference: ref, created: false }] });
  });

  it("12 deliveries at once, as the MTA makes them: every one staged and processed (exit 0)", async () => {
    const home = mkdtempSync(join(tmpdir(), "ingest-mail-pgbouncer-home-"));
    const env = { PATH: process.env.PATH, HOME: home, LANG: "C", INGEST_MAIL_DB: url, XDG_DATA_HOME: home };
    const one = (i: number) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [bin, "ingest", "--json"], { env });
        let out = "";
        let err = "";
        c.stdout.on("data", (d) => (out += d));
        c.stderr.on("data", (d) => (err += d));
        c.on("close", (code) => resolve({ code, out, err }));
        c.stdin.end(`From: Customer ${i} <c${i}@pool.example>\r\nTo: service@example.test\r\nSubject: Pooled ${mode} ${i}\r\nMessage-ID: <pooled-${mode}-${i}@pool.example>\r\n\r\nHello ${i}\r\n`);
      });
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => one(i)));
    expect(runs.map((r) => r.err)).toEqual(Array(12).fill(""));
    expect(runs.map((r) => r.code)).toEqual(Array(12).fill(0));
    expect(runs.map((r) => (JSON.parse(r.out) as { status: string }).status)).toEqual(Array(12).fill("complete"));
  });
});

if (unavailable) describe("PostgreSQL through PgBouncer", () => it.skip(`skipped: ${unavailable}`, () => {}));
