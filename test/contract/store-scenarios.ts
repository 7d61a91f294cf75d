// What one racer does in the store contract's concurrency tests (store.ts): each runs on its own
// store (its own connection), in this process (PostgreSQL) or in a worker thread (SQLite, whose
// busy wait would block every store of a single thread: store-worker.ts). Arguments and results
// are plain data, so they cross a thread boundary unchanged.
import { countConfirmationsToKey, ensureSetting } from "../../src/store/queries/trust-queries.js";
import { createIssue, insertOutbound, insertStaged, takeClaim, type NewStagedMail } from "../../src/store/queries/queries.js";
import type { Db } from "../../src/store/store.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const scenarios = {
  /** takeClaim in a write transaction that holds the row a while after it (the other waits, then re-checks). */
  async claim(db: Db, a: { id: number; seen: { attempts: number; claimedBy: string | null }; by: string; at: string; holdMs: number }): Promise<boolean> {
    return db.write(async (tx) => {
      const won = await takeClaim(tx, a.id, a.seen, a.by, a.at);
      await sleep(a.holdMs);
      return won;
    });
  },

  /** insertStaged of a row with a given dedup key, in a durable write transaction held open a while. */
  async stage(db: Db, a: { row: NewStagedMail; holdMs: number }): Promise<number | null> {
    return db.write(
      async (tx) => {
        const staged = await insertStaged(tx, { ...a.row, raw: a.row.raw ? Buffer.from(a.row.raw) : null });
        await sleep(a.holdMs);
        return staged?.id ?? null;
      },
      { durable: true },
    );
  },

  /** `count` createIssue calls at once, each its own transaction. */
  async openIssues(db: Db, a: { count: number; prefix: string; tag: string; userIdentificationId: number; at: string }): Promise<{ id: number; reference: string }[]> {
    const made = await Promise.all(
      Array.from({ length: a.count }, (_, i) =>
        db.write((tx) => createIssue(tx, { guid: `${a.tag}-${i}`, kind: "ticket", state: "todo", userIdentificationId: a.userIdentificationId, subject: `${a.tag} ${i}`, openDate: a.at, updatedAt: a.at }, a.prefix)),
      ),
    );
    return made.map((i) => ({ id: i.id, reference: i.reference! }));
  },

  /**
   * `count` reservations at once, as the confirmation limit makes them: count the address's
   * confirmations, then insert one only while below `limit` (with `lock`, under tx.lockKey).
   */
  async reserve(db: Db, a: { count: number; lock: boolean; key: string; address: string; limit: number; tag: string; since: string; at: string; holdMs: number }): Promise<boolean[]> {
    return Promise.all(
      Array.from({ length: a.count }, (_, i) =>
        db.write(async (tx) => {
          if (a.lock) await tx.lockKey(a.key);
          const used = await countConfirmationsToKey(tx, a.address, a.since);
          await sleep(a.holdMs); // the window a race needs
          if (used >= a.limit) return false;
          await insertOutbound(tx, { kind: "confirmation", toAddress: a.address, toKey: a.address, toDomain: a.address.split("@")[1], subject: "s", messageId: `<${a.tag}-${i}@test>`, status: "sending", createdAt: a.at });
          return true;
        }),
      ),
    );
  },

  /** ensureSetting with this racer's own candidate value: every racer must get the same one. */
  async setting(db: Db, a: { key: string; value: string; holdMs: number }): Promise<string> {
    return db.write(async (tx) => {
      const v = await ensureSetting(tx, a.key, () => a.value);
      await sleep(a.holdMs);
      return v;
    });
  },
};

export type Scenarios = typeof scenarios;
export type ScenarioName = keyof Scenarios;
