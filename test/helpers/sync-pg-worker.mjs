// The thread behind sync-pg.ts: holds the pg clients and answers one query at a time. The caller
// blocks on `signal` (Atomics.wait) until the reply is on the port. Plain JavaScript: a worker
// thread is not run through vitest's TypeScript transform.
import pg from "pg";
import { workerData } from "node:worker_threads";

const { port, signal } = workerData;

// As the store's engine reads them (src/store/postgres): counts as numbers, booleans as 0/1, so a
// test compares the same values on both engines.
const PARSERS = { 20: Number, 1700: Number, 16: (v) => (v === "t" ? 1 : 0) };
const types = { getTypeParser: (oid, format) => (format !== "binary" && PARSERS[oid]) || pg.types.getTypeParser(oid, format) };

// One client per database, the most recently used last; a test file makes a database per test and
// never says when it is done with one, so the oldest are closed past a few.
const MAX_CLIENTS = 8;
const clients = new Map();

function client(url) {
  let c = clients.get(url);
  if (c) clients.delete(url);
  else {
    const fresh = new pg.Client({ connectionString: url, types });
    fresh.on("error", () => {}); // the server stopped under an idle client (teardown)
    c = fresh.connect().then(() => fresh);
  }
  clients.set(url, c);
  for (const [old, oldest] of clients) {
    if (clients.size <= MAX_CLIENTS) break;
    clients.delete(old);
    oldest.then((o) => o.end()).catch(() => {});
  }
  return c;
}

async function close(url) {
  const c = clients.get(url);
  clients.delete(url);
  if (c) await (await c).end();
}

async function answer({ url, sql, params, end }) {
  if (end) {
    await close(url);
    return { rows: [], changes: 0 };
  }
  const c = await client(url);
  const r = await c.query(sql, params);
  // Several statements in one text (no parameters) answer with one result each: the last counts.
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  return { rows: last?.rows ?? [], changes: last?.rowCount ?? 0 };
}

port.on("message", (msg) => {
  answer(msg)
    .then(
      (reply) => port.postMessage(reply),
      (e) => port.postMessage({ error: { message: e?.message ?? String(e), code: e?.code } }),
    )
    .finally(() => {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
});
