// A key lock (Store.lockKey) held by one transaction while a second one asks for it: shared by the
// PostgreSQL engine's tests, directly and behind PgBouncer, which assert what the second one gets.
import type { Db, Store } from "../../src/store/store.js";

/** Promise.withResolvers (Node 22) for Node 20. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Holds lockKey("busy") in one write while `second` runs in another; the first lets go once the
 * second has ended. Returns what the second write threw (undefined if nothing) and how long it took.
 */
export async function waitForHeldLock(store: Store, second: (tx: Db) => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const held = deferred();
  const release = deferred();
  const first = store.write(async (tx) => {
    await tx.lockKey("busy");
    await tx.get(`SELECT 1 AS "one"`); // the lock goes to the server with the next statement
    held.resolve();
    await release.promise;
  });
  await held.promise;
  const t = Date.now();
  const error = await store.write(second).then(
    () => undefined,
    (x: unknown) => x,
  );
  const ms = Date.now() - t;
  release.resolve();
  await first;
  return { error, ms };
}
