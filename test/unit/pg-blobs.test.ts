// The PostgreSQL store's blobs (issue 11.8: raw mail and attachment bytes in the database): bytes
// round trip at chunk boundaries, are kept once per content, are checked against their name, and
// a purge never deletes bytes an ingest is about to refer to. SQLite keeps files (db.blobs null).
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { postgresUnavailable, testServer, type TestServer } from "../helpers/postgres.js";

const unavailable = postgresUnavailable();
const MB = 1024 * 1024;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** Deterministic bytes of a length, given in pieces of odd sizes (as streams give them). */
const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const pieces = (b: Buffer) => () => Readable.from(Array.from({ length: Math.ceil(b.length / 99_991) }, (_, i) => b.subarray(i * 99_991, (i + 1) * 99_991)));

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.skipIf(unavailable)("PostgreSQL blobs", () => {
  let server: TestServer;
  let store: Store;

  beforeAll(async () => {
    server = await testServer();
    const { openPostgresStore } = await import("../../src/store/postgres/engine.js");
    store = await openPostgresStore(await server.createDatabase(), { busyTimeoutMs: 5000 });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it.each([0, 1, MB - 1, MB, MB + 1, 3 * MB + 7])("%i bytes go in and come out the same, in chunks of at most 1 MiB", async (n) => {
    const b = bytes(n, n);
    const ref = await store.write((tx) => tx.blobs!.put(sha(b), pieces(b)));
    expect(ref).toBe(`blob:${sha(b)}`);
    expect(await store.blobs!.size(ref)).toBe(n);
    expect((await readAll(store.blobs!.open(ref))).equals(b)).toBe(true);
    const chunks = await store.all<{ len: number }>(`SELECT length(data) AS "len" FROM blob_chunks WHERE sha256 = ? ORDER BY seq`, [sha(b)]);
    expect(chunks.every((c) => c.len <= MB)).toBe(true);
    expect(chunks.reduce((s, c) => s + c.len, 0)).toBe(n);
  });

  it("keeps the same bytes once, and does not read them again", async () => {
    const b = bytes(5000, 7);
    await store.write((tx) => tx.blobs!.put(sha(b), pieces(b)));
    const again = await store.write((tx) => tx.blobs!.put(sha(b), () => Readable.from((async function* () { throw new Error("read again"); })())));
    expect(again).toBe(`blob:${sha(b)}`);
    expect(await store.get(`SELECT count(*) AS "n" FROM blobs WHERE sha256 = ?`, [sha(b)])).toEqual({ n: 1 });
  });

  it("two transactions putting the same new bytes at once: both succeed, one blob", async () => {
    const b = bytes(2 * MB + 3, 9);
    const refs = await Promise.all([1, 2].map(() => store.write(async (tx) => tx.blobs!.put(sha(b), pieces(b)))));
    expect(refs).toEqual([`blob:${sha(b)}`, `blob:${sha(b)}`]);
    expect((await readAll(store.blobs!.open(refs[0]))).equals(b)).toBe(true);
  });

  it("refuses bytes that do not have the sha256 they are put under, and leaves nothing behind", async () => {
    const b = bytes(3000, 3);
    const wrong = sha(bytes(3000, 4));
    await expect(store.write((tx) => tx.blobs!.put(wrong, pieces(b)))).rejects.toThrow(/do not have that sha256/);
    expect(await store.blobs!.size(`blob:${wrong}`)).toBeNull();
  });

  it("missing bytes: size null, and the stream fails", async () => {
    const ref = `blob:${"0".repeat(64)}`;
    expect(await store.blobs!.size(ref)).toBeNull();
    await expect(readAll(store.blobs!.open(ref))).rejects.toThrow(/no such bytes/);
  });

  it("deleteUnreferenced: never bytes a row refers to, nor bytes an ingest holds until it commits", async () => {
    const b = bytes(4000, 11);
    const ref = await store.write((tx) => tx.blobs!.put(sha(b), pieces(b)));
    const row = async (db: Pick<Store, "run">) => db.run(`INSERT INTO attachments (staged_mail_id, size, sha256, stored_path) VALUES (0, ?, ?, ?)`, [b.length, sha(b), ref]);
    // An ingest found the bytes (put) and is about to insert its row: the purge leaves them.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let found!: () => void;
    const put = new Promise<void>((r) => (found = r));
    const ingest = store.write(async (tx) => {
      await tx.blobs!.put(sha(b), pieces(b));
      found();
      await held;
      await row(tx);
    });
    await put;
    expect(await store.blobs!.deleteUnreferenced([ref])).toEqual({ removed: 0, bytes: 0 });
    release();
    await ingest;
    // Referred to: kept; no longer: deleted (also by the sweep over all blobs).
    expect(await store.blobs!.deleteUnreferenced([ref])).toEqual({ removed: 0, bytes: 0 });
    await store.run(`DELETE FROM attachments WHERE stored_path = ?`, [ref]);
    expect(await store.blobs!.deleteUnreferenced()).toMatchObject({ removed: expect.any(Number) });
    expect(await store.blobs!.size(ref)).toBeNull();
    expect(await store.get(`SELECT count(*) AS "n" FROM blob_chunks WHERE sha256 = ?`, [sha(b)])).toEqual({ n: 0 });
  });
});

if (unavailable) describe("PostgreSQL blobs", () => it.skip(`skipped: ${unavailable}`, () => {}));
