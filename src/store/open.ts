// Chooses the engine from the database setting (issue 11.2): a postgres:// or postgresql:// URL is
// PostgreSQL (libpq's environment variables fill in what the URL leaves out); anything else is a
// SQLite file path, the embedded default. The PostgreSQL engine (and its driver) is loaded only
// for a URL, so the per-message path on SQLite never pays for it.
import type { Store } from "./store.js";
import type { WriteTurn } from "./sqlite/engine.js";
import { openSqliteStore } from "./sqlite/open.js";
import { isDatabaseUrl } from "./url.js";

export { isDatabaseUrl };

export interface StoreOptions {
  busyTimeoutMs: number;
  readonly?: boolean;
  /** SQLite: the mode of a database file this call creates (issue 10). */
  fileMode?: number;
  /** SQLite: the LMTP daemon's write lock between its two threads (serve/write-lock.ts); PostgreSQL needs none. */
  writeTurn?: WriteTurn;
}

export async function openStore(target: string, opts: StoreOptions): Promise<Store> {
  if (isDatabaseUrl(target)) {
    const { openPostgresStore } = await import("./postgres/engine.js");
    return openPostgresStore(target, { busyTimeoutMs: opts.busyTimeoutMs, readonly: opts.readonly });
  }
  return openSqliteStore(target, opts);
}
