// The engine contract (issue 11.6): what every engine of the store must do, run on each of them by
// engine.test.ts (as unstorage runs one driver suite over every driver). Engine-level only:
// statements, parameters, types, transactions, locks, the claim and dedup patterns the pipeline
// rests on, migrations. The named queries have their own contract.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseRefusedError, LateUnitFailure, StorageFault } from "../../src/errors.js";
import type { Db, Store } from "../../src/store/store.js";

export interface EngineHarness {
  name: string;
  /** A target (path or URL) for a database that does not exist yet or is empty. */
  fresh(): Promise<string>;
  open(target: string): Promise<Store>;
  /** The schema version this program gives a database of this engine. */
  schemaVersion: number;
  /** Pretends a newer program wrote the database. */
  setSchemaVersion(store: Store, version: number): Promise<void>;
  /** CREATE TABLE items (id, k unique, v, status, data blob, n integer) in the engine's dialect. */
  itemsDdl: string;
  /** Db.nextId in a batch transaction (TxOptions.batch): PostgreSQL, where it saves round trips. */
  drawsIdsAhead: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

export function engineContract(h: EngineHarness): void {
  describe(`engine contract: ${h.name}`, () => {
    let store: Store;
    let keys = 0;
    /** A key no other test uses. */
    const key = (what: string) => `${what}-${++keys}`;
    const insert = (db: Db, k: string, v: string | null = null, status = "new") =>
      db.get<{ id: number }>(`INSERT INTO contract_items (k, v, status) VALUES (?, ?, ?) RETURNING id`, [k, v, status]);
    /** Rows of key k and of its sub-keys (k-1, k-2, …). */
    const count = async (db: Db, k: string) => (await db.get<{ n: number }>(`SELECT count(*) AS "n" FROM contract_items WHERE k = ? OR k LIKE ?`, [k, `${k}-%`]))!.n;

    beforeAll(async () => {
      store = await h.open(await h.fresh());
      await store.run(h.itemsDdl);
    });
    afterAll(async () => {
      await store?.close();
    });

    it("binds ? parameters, never those inside quotes, comments or other literals", async () => {
      const k = key("params");
      const tricky = `it's a ?question -- not a comment /* nor this */ $1 "quoted?" ''`;
      await store.run(`INSERT INTO contract_items (k, v, status) VALUES (?, ?, 'a ''?'' here')`, [k, tricky]);
      const row = await store.get<{ v: string; status: string; lit: string }>(
        `SELECT v, status, '?' AS "lit" FROM contract_items -- a ? in a comment
         WHERE k = ? /* and ? here */ AND v = ? AND "status" <> 'x?y'`,
        [k, tricky],
      );
      expect(row).toEqual({ v: tricky, status: "a '?' here", lit: "?" });
      expect(await store.all(`SELECT id FROM contract_items WHERE k = ?`, ["no such key"])).toEqual([]);
      expect(await store.get(`SELECT id FROM contract_items WHERE k = ?`, ["no such key"])).toBeUndefined();
    });

    it("keeps quoted camelCase aliases and gives NULL for undefined", async () => {
      const k = key("alias");
      await store.run(`INSERT INTO contract_items (k, v, n) VALUES (?, ?, ?)`, [k, undefined, 7]);
      expect(await store.get(`SELECT v AS "someValue", n AS "aNumber" FROM contract_items WHERE k = ?`, [k])).toEqual({ someValue: null, aNumber: 7 });
    });

    it("round-trips bytes as Buffers", async () => {
      const k = key("bytes");
      const small = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const big = Buffer.alloc(1 << 20, 0xa5);
      await store.run(`INSERT INTO contract_items (k, data) VALUES (?, ?), (?, ?)`, [`${k}-s`, small, `${k}-b`, big]);
      const rows = await store.all<{ data: Buffer }>(`SELECT data FROM contract_items WHERE k IN (?, ?) ORDER BY k DESC`, [`${k}-s`, `${k}-b`]);
      expect(Buffer.isBuffer(rows[0].data)).toBe(true);
      expect(rows[0].data.equals(small)).toBe(true);
      expect(rows[1].data.equals(big)).toBe(true);
    });

    it("returns counts and sums as numbers, comparisons as 0/1", async () => {
      const k = key("numbers");
      for (let i = 1; i <= 3; i++) await store.run(`INSERT INTO contract_items (k, n) VALUES (?, ?)`, [`${k}-${i}`, i]);
      const r = await store.get<Record<string, unknown>>(
        `SELECT count(*) AS "n", sum(n) AS "total", max(n) AS "top", (count(*) > 2) AS "many" FROM contract_items WHERE k LIKE ?`,
        [`${k}-%`],
      );
      expect(r).toEqual({ n: 3, total: 6, top: 3, many: 1 });
    });

    it("run() counts the rows it touched", async () => {
      const k = key("changes");
      await insert(store, `${k}-1`);
      await insert(store, `${k}-2`);
      expect(await store.run(`UPDATE contract_items SET n = ? WHERE k LIKE ?`, [1, `${k}-%`])).toEqual({ changes: 2 });
      expect((await store.all<{ n: number }>(`SELECT n FROM contract_items WHERE k LIKE ?`, [`${k}-%`])).map((r) => r.n)).toEqual([1, 1]);
      expect(await store.run(`DELETE FROM contract_items WHERE k = ?`, ["none"])).toEqual({ changes: 0 });
    });

    it("write() commits when fn resolves and rolls back when it throws", async () => {
      const k = key("tx");
      expect(await store.write(async (tx) => (await insert(tx, `${k}-kept`))!.id)).toBeGreaterThan(0);
      const boom = new Error("boom");
      await expect(
        store.write(async (tx) => {
          await insert(tx, `${k}-lost`);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await count(store, `${k}-kept`)).toBe(1);
      expect(await count(store, `${k}-lost`)).toBe(0);
      expect(await store.write(async () => "value", { durable: true })).toBe("value");
    });

    it("a write() inside a transaction is a savepoint, undone alone", async () => {
      const k = key("savepoint");
      await store.write(async (tx) => {
        await insert(tx, `${k}-a`);
        await expect(
          tx.write(async (sp) => {
            await insert(sp, `${k}-b`);
            await sp.write(async (inner) => void (await insert(inner, `${k}-c`)));
            throw new Error("undo b and c");
          }),
        ).rejects.toThrow("undo b and c");
        await tx.write(async (sp) => void (await insert(sp, `${k}-d`)));
        await insert(tx, `${k}-e`);
      });
      const ks = (await store.all<{ k: string }>(`SELECT k FROM contract_items WHERE k LIKE ? ORDER BY k`, [`${k}-%`])).map((r) => r.k);
      expect(ks).toEqual([`${k}-a`, `${k}-d`, `${k}-e`]);
    });

    // Db.defer: a write nobody waits for (PostgreSQL sends it with the next statement). Whenever it
    // fails, the unit it was written in fails with its error and is undone alone, as if awaited.
    describe("a deferred write", () => {
      const dup = /unique/i;
      const deferInsert = (db: Db, k: string) => db.defer(`INSERT INTO contract_items (k, status) VALUES (?, 'new')`, [k]);
      const ks = async (k: string) => (await store.all<{ k: string }>(`SELECT k FROM contract_items WHERE k LIKE ? ORDER BY k`, [`${k}-%`])).map((r) => r.k);

      it("is there for the statements after it", async () => {
        const k = key("defer-seen");
        await store.write(async (tx) => {
          await deferInsert(tx, `${k}-a`);
          await tx.lockKey(k);
          await deferInsert(tx, `${k}-b`);
          expect(await count(tx, k)).toBe(2);
        });
        expect(await ks(k)).toEqual([`${k}-a`, `${k}-b`]);
      });

      it("that fails last in a savepoint fails that savepoint with its own error; the transaction goes on", async () => {
        const k = key("defer-last");
        await insert(store, `${k}-taken`);
        await store.write(async (tx) => {
          await insert(tx, `${k}-a`);
          await expect(
            tx.write(async (sp) => {
              await insert(sp, `${k}-b`);
              await deferInsert(sp, `${k}-taken`);
              return "done";
            }),
          ).rejects.toThrow(dup);
          await insert(tx, `${k}-c`);
        });
        expect(await ks(k)).toEqual([`${k}-a`, `${k}-c`, `${k}-taken`]);
      });

      it("that fails is raised, with its own error, by the next statement of its unit at the latest", async () => {
        const k = key("defer-next");
        await insert(store, `${k}-taken`);
        let next: unknown;
        await store.write(async (tx) => {
          await expect(
            tx.write(async (sp) => {
              try {
                await deferInsert(sp, `${k}-taken`); // SQLite: here
                await deferInsert(sp, `${k}-b`);
                await count(sp, k); // PostgreSQL: here, not "current transaction is aborted"
              } catch (e) {
                next = e;
              }
              throw next ?? new Error("the failed write was not raised");
            }),
          ).rejects.toThrow(dup);
          await insert(tx, `${k}-c`);
        });
        expect(String(next)).toMatch(dup);
        expect(await ks(k)).toEqual([`${k}-c`, `${k}-taken`]);
      });

      it("that fails in an inner savepoint undoes the inner one only", async () => {
        const k = key("defer-nested");
        await insert(store, `${k}-taken`);
        await store.write(async (tx) => {
          await tx.write(async (outer) => {
            await deferInsert(outer, `${k}-a`);
            await expect(outer.write(async (inner) => void (await deferInsert(inner, `${k}-taken`)))).rejects.toThrow(dup);
            await deferInsert(outer, `${k}-b`);
          });
        });
        expect(await ks(k)).toEqual([`${k}-a`, `${k}-b`, `${k}-taken`]);
      });

      it("that fails before an inner savepoint begins fails the unit it was written in, not the inner one", async () => {
        const k = key("defer-before");
        await insert(store, `${k}-taken`);
        await store.write(async (tx) => {
          await expect(
            tx.write(async (outer) => {
              await deferInsert(outer, `${k}-taken`);
              await outer.write(async (inner) => void (await insert(inner, `${k}-b`)));
              await insert(outer, `${k}-a`);
            }),
          ).rejects.toThrow(dup);
          await insert(tx, `${k}-c`);
        });
        expect(await ks(k)).toEqual([`${k}-c`, `${k}-taken`]);
      });

      it("that fails just before the commit fails the transaction with its error, and nothing is stored", async () => {
        const k = key("defer-commit");
        await insert(store, `${k}-taken`);
        await expect(
          store.write(async (tx) => {
            await insert(tx, `${k}-a`);
            await deferInsert(tx, `${k}-taken`);
          }),
        ).rejects.toThrow(dup);
        expect(await ks(k)).toEqual([`${k}-taken`]);
      });

      it("held when the unit throws is undone with it", async () => {
        const k = key("defer-throw");
        await store.write(async (tx) => {
          await expect(
            tx.write(async (sp) => {
              await deferInsert(sp, `${k}-a`);
              throw new Error("boom");
            }),
          ).rejects.toThrow("boom");
          await deferInsert(tx, `${k}-b`);
        });
        expect(await ks(k)).toEqual([`${k}-b`]);
      });

      it("outside a transaction runs at once", async () => {
        const k = key("defer-store");
        await store.defer(`INSERT INTO contract_items (k, status) VALUES (?, 'new')`, [`${k}-a`]);
        expect(await ks(k)).toEqual([`${k}-a`]);
        await expect(store.defer(`INSERT INTO contract_items (k, status) VALUES (?, 'new')`, [`${k}-a`])).rejects.toThrow(dup);
      });
    });

    it("read() sees one snapshot while others commit", async () => {
      const k = key("snapshot");
      await insert(store, `${k}-1`);
      let written: Promise<unknown> | undefined;
      const [before, after] = await store.read(async (tx) => {
        const first = await count(tx, k);
        written = store.write((w) => insert(w, `${k}-2`));
        // PostgreSQL commits it now; SQLite queues it behind this transaction.
        await Promise.race([written, sleep(300)]);
        return [first, await count(tx, k)];
      });
      await written;
      expect([before, after]).toEqual([1, 1]);
      expect(await count(store, k)).toBe(2);
    });

    it("lockKey() makes a second transaction's statements with the same key wait for the first to end", async () => {
      // The lock is taken before the next statement runs (on PostgreSQL it is sent with it): what a
      // transaction reads after lockKey() is read under the lock.
      const k = key("lock");
      const order: string[] = [];
      const aHolds = signal();
      const a = store.write(async (tx) => {
        await tx.lockKey(k);
        expect(await count(tx, k)).toBe(0);
        order.push("a locked");
        aHolds.fire();
        await sleep(300);
        await insert(tx, `${k}-a`);
        order.push("a done");
      });
      await aHolds.promise;
      const b = store.write(async (tx) => {
        await tx.lockKey(k);
        const seen = await count(tx, k);
        order.push("b read");
        expect(seen).toBe(1); // a's row, committed
      });
      await Promise.all([a, b]);
      expect(order).toEqual(["a locked", "a done", "b read"]);
    });

    it("a reservation that reads before it writes, under lockKey, admits exactly the limit", async () => {
      const k = key("reserve");
      const reserve = (i: number) =>
        store.write(async (tx) => {
          await tx.lockKey(k);
          const used = await count(tx, k);
          await sleep(20); // widen the window a race would need
          if (used >= 2) return false;
          await insert(tx, `${k}-${i}`);
          return true;
        });
      const granted = await Promise.all(Array.from({ length: 6 }, (_, i) => reserve(i)));
      expect(granted.filter(Boolean)).toHaveLength(2);
      expect(await count(store, k)).toBe(2);
    });

    // TxOptions.unconfirmed: a unit ends without waiting for its statements' answers (PostgreSQL;
    // on SQLite every statement has run when it returns). Its failure is never lost: raised by the
    // unit itself where known in time, else a LateUnitFailure that fails the whole transaction.
    describe("a unit ended unconfirmed", () => {
      const late = async (failLast: boolean) => {
        const k = key("late");
        await insert(store, `${k}-taken`);
        const e = await store
          .write(async (tx) => {
            await insert(tx, `${k}-before`);
            await tx.write((sp) => sp.defer(`INSERT INTO contract_items (k) VALUES (?)`, [`${k}-taken`]), { unconfirmed: true });
            if (!failLast) await insert(tx, `${k}-after`);
          })
          .then(
            () => null,
            (x: unknown) => x,
          );
        expect(await count(store, k)).toBe(1); // nothing of the transaction is stored
        return e as Error & { cause?: unknown };
      };

      it.each([
        ["the next statement waited for", false],
        ["the commit", true],
      ])("whose deferred write fails: found by %s, the transaction is not kept", async (_by, failLast) => {
        const e = await late(failLast);
        if (store.engine === "sqlite") expect(e).not.toBeNull(); // the unit itself failed, at once
        else {
          expect(e).toBeInstanceOf(LateUnitFailure);
          expect(String((e.cause as Error).message)).toMatch(/duplicate key|unique/i);
        }
      });

      it("whose statements succeed is kept, as any unit", async () => {
        const k = key("late-ok");
        await store.write(async (tx) => {
          for (const n of [1, 2, 3]) await tx.write((sp) => sp.defer(`INSERT INTO contract_items (k) VALUES (?)`, [`${k}-${n}`]), { unconfirmed: true });
        });
        expect(await count(store, k)).toBe(3);
      });
    });

    // Db.nextId (TxOptions.batch): ids drawn ahead of their rows, so that those INSERTs can be deferred.
    describe("ids drawn ahead", () => {
      const take = (tx: Db) => tx.nextId!("contract_items");
      const insertWithId = (tx: Db, id: number, k: string) => tx.defer(`INSERT INTO contract_items (id, k) VALUES (?, ?)`, [id, k]);
      const idsOf = async (k: string) => (await store.all<{ id: number }>(`SELECT id FROM contract_items WHERE k LIKE ? ORDER BY id`, [`${k}-%`])).map((r) => r.id);

      it(`only in a batch transaction, and its savepoints, and only ${h.drawsIdsAhead ? "here (PostgreSQL)" : "where round trips cost (not here)"}`, async () => {
        await store.write(async (tx) => expect(tx.nextId).toBeUndefined());
        await store.write(
          async (tx) => {
            expect(tx.nextId !== undefined).toBe(h.drawsIdsAhead);
            await tx.write(async (sp) => void expect(sp.nextId !== undefined).toBe(h.drawsIdsAhead));
          },
          { batch: true },
        );
      });

      if (!h.drawsIdsAhead) return;

      it("gives ids one after the other, across transactions too, never one another writer gets; rows take them", async () => {
        const k = key("ahead");
        const [a, b, c] = await store.write(async (tx) => {
          // Two of one table before any statement is waited for: the one drawn ahead is sent, not waited on forever.
          const ids = [await take(tx), await take(tx), await take(tx)];
          for (const id of ids) await insertWithId(tx, id, `${k}-${id}`);
          return ids;
        }, { batch: true });
        expect([b - a, c - b]).toEqual([1, 1]);
        // A writer that lets the sequence choose, meanwhile: c + 1 was drawn ahead already.
        const other = (await insert(store, `${k}-other`))!.id;
        const d = await store.write(async (tx) => {
          const id = await take(tx);
          await insertWithId(tx, id, `${k}-${id}`);
          return id;
        }, { batch: true });
        expect(d).toBe(c + 1);
        expect(other).toBe(c + 2);
        expect(await idsOf(k)).toEqual([a, b, c, d, other]);
      });

      it("an id drawn in a transaction that rolls back is never given again", async () => {
        const k = key("ahead-rollback");
        let lost: number[] = [];
        await expect(
          store.write(async (tx) => {
            lost = [await take(tx), await take(tx)];
            await insertWithId(tx, lost[0], `${k}-lost`);
            throw new Error("undo");
          }, { batch: true }),
        ).rejects.toThrow("undo");
        const kept = await store.write(async (tx) => {
          const id = await take(tx);
          await insertWithId(tx, id, `${k}-kept`);
          return id;
        }, { batch: true });
        expect(kept).toBeGreaterThan(Math.max(...lost));
        expect(lost).not.toContain(kept);
        expect(await idsOf(k)).toEqual([kept]);
      });

      it("a unit that fails after taking one leaves the transaction able to draw and insert", async () => {
        const k = key("ahead-unit");
        const dup = `${k}-dup`;
        await insert(store, dup);
        const ids = await store.write(async (tx) => {
          const first = await take(tx);
          await insertWithId(tx, first, `${k}-1`);
          await expect(
            tx.write(async (sp) => {
              const id = await take(sp);
              await insertWithId(sp, id, dup); // fails (unique k) when sent, with the next statement waited for
              await sp.get(`SELECT 1 AS one`);
            }),
          ).rejects.toThrow();
          const second = await take(tx);
          await insertWithId(tx, second, `${k}-2`);
          return [first, second];
        }, { batch: true });
        expect(await idsOf(k)).toEqual([...ids, (await store.get<{ id: number }>(`SELECT id FROM contract_items WHERE k = ?`, [dup]))!.id].sort((x, y) => x - y));
        expect(ids[1]).toBeGreaterThan(ids[0]);
      });
    });

    // Db.early (import on PostgreSQL: the next mail's reads, answered while this one is processed).
    describe("reads sent early", () => {
      const n = (db: Db, k: string) => db.get<{ n: number }>(`SELECT count(*) AS "n" FROM contract_items WHERE k LIKE ?`, [`${k}-%`]).then((r) => Number(r!.n));

      it(`only in a batch transaction, like ids drawn ahead (${h.drawsIdsAhead ? "here" : "not here"})`, async () => {
        await store.write(async (tx) => expect(tx.early).toBeUndefined());
        await store.write(async (tx) => void expect(tx.early !== undefined).toBe(h.drawsIdsAhead), { batch: true });
      });

      if (!h.drawsIdsAhead) return;

      it("are sent at once, after what was asked before them and before what is asked after them", async () => {
        const k = key("early");
        await insert(store, `${k}-a`);
        const seen = await store.write(async (tx) => {
          // Answered with nothing else waited for: early sends, it does not only hold.
          const first = await tx.early!((e) => n(e, k));
          await tx.defer(`INSERT INTO contract_items (k) VALUES (?)`, [`${k}-b`]);
          const early = tx.early!((e) => n(e, k));
          await tx.write((sp) => sp.defer(`INSERT INTO contract_items (k) VALUES (?)`, [`${k}-c`]), { unconfirmed: true });
          return { first, early: await early, after: await n(tx, k) };
        }, { batch: true });
        expect(seen).toEqual({ first: 1, early: 2, after: 3 });
      });

      it("a failure of one fails the transaction with LateUnitFailure, for the caller to run it again", async () => {
        const e = await store
          .write(async (tx) => {
            tx.early!((db) => db.get(`SELECT 1 / (SELECT count(*) FROM contract_items WHERE k = 'no such key') AS "x"`)).catch(() => {});
            await tx.write((sp) => sp.get(`SELECT 1 AS one`));
          }, { batch: true })
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(LateUnitFailure);
      });

      it("a write on an early answer that another writer made stale (replayOnFailure) fails the transaction with LateUnitFailure, not its unit alone", async () => {
        const k = key("stale");
        const e = await store
          .write(async (tx) => {
            const free = (await tx.early!((db) => n(db, k))) === 0;
            await insert(store, k + "-taken"); // another writer, committed meanwhile
            await tx.write(async (sp) => {
              if (free) await sp.defer(`INSERT INTO contract_items (k) VALUES (?)`, [`${k}-taken`], { replayOnFailure: true });
              await sp.get(`SELECT 1 AS one`);
            });
          }, { batch: true })
          .catch((x: unknown) => x);
        expect(e).toBeInstanceOf(LateUnitFailure);
        expect(String(((e as LateUnitFailure).cause as Error).message)).toMatch(/duplicate key|unique/i);
        expect(await count(store, `${k}-taken`)).toBe(1);
      });
    });

    it("INSERT … ON CONFLICT DO NOTHING RETURNING gives no row for a duplicate (the dedup basis)", async () => {
      const k = key("dedup");
      const sql = `INSERT INTO contract_items (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id`;
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.write((tx) => tx.get<{ id: number }>(sql, [k, `writer ${i}`]))));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await store.run(`INSERT INTO contract_items (k) VALUES (?) ON CONFLICT DO NOTHING`, [k])).toEqual({ changes: 0 });
      expect(await count(store, k)).toBe(1);
    });

    it("a duplicate without ON CONFLICT is an error, not a storage fault", async () => {
      const k = key("unique");
      await insert(store, k);
      const e = await insert(store, k).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(StorageFault);
    });

    it("a conditional UPDATE … WHERE status = 'new' RETURNING: of two racers exactly one claims", async () => {
      const k = key("claim");
      const { id } = (await insert(store, k, null, "new"))!;
      const claim = (who: string) =>
        store.write(async (tx) => {
          const won = await tx.get<{ id: number }>(`UPDATE contract_items SET status = 'claimed', v = ? WHERE id = ? AND status = 'new' RETURNING id`, [who, id]);
          await sleep(100); // hold the row lock: the other waits, then finds it taken
          return won !== undefined;
        });
      const wins = await Promise.all([claim("one"), claim("two"), claim("three")]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      const row = await store.get<{ status: string; v: string }>(`SELECT status, v FROM contract_items WHERE id = ?`, [id]);
      expect(row!.status).toBe("claimed");
      expect(["one", "two", "three"][wins.indexOf(true)]).toBe(row!.v);
    });

    it("applies the migrations once when 10 open an empty database at once", async () => {
      const target = await h.fresh();
      const stores = await Promise.all(Array.from({ length: 10 }, () => h.open(target)));
      try {
        const applied = await stores[0].get<{ n: number }>(`SELECT count(*) AS "n" FROM "__drizzle_migrations"`);
        expect(applied!.n).toBe(h.schemaVersion);
        expect(await stores[9].integrityCheck()).toBe("ok");
        expect((await stores[3].describe()).schemaVersion).toBe(h.schemaVersion);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it("refuses a database a newer program wrote", async () => {
      const target = await h.fresh();
      const s = await h.open(target);
      await h.setSchemaVersion(s, h.schemaVersion + 1);
      await s.close();
      await expect(h.open(target)).rejects.toBeInstanceOf(DatabaseRefusedError);
    });
  });
}
