// Synchronous PostgreSQL for the tests' own reads and edits (db(), count(), rows() in cli.ts stay
// synchronous on both engines). A worker thread holds the pg clients (sync-pg-worker.mjs); each call
// posts the query, blocks this thread with Atomics.wait until the worker signals, and takes the
// reply with receiveMessageOnPort, the technique of the synckit package.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";

interface Reply {
  rows?: Record<string, unknown>[];
  changes?: number;
  error?: { message: string; code?: string };
}

const TIMEOUT_MS = 120_000;

let channel: { worker: Worker; port: MessagePort; signal: Int32Array } | null = null;

function start() {
  if (channel) return channel;
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./sync-pg-worker.mjs", import.meta.url), { workerData: { port: port2, signal }, transferList: [port2] });
  // Neither keeps the test process alive: it ends when its tests do, the worker with it.
  worker.unref();
  port1.unref();
  return (channel = { worker, port: port1, signal });
}

function call(message: { url: string; sql?: string; params?: unknown[]; end?: boolean }): Required<Pick<Reply, "rows" | "changes">> {
  const c = start();
  Atomics.store(c.signal, 0, 0);
  c.port.postMessage(message);
  // Until the flag is set: the worker's notify of the call before may come late and wake this wait
  // with no reply on the port yet (the race esbuild's sync API met, evanw/esbuild#590).
  const deadline = Date.now() + TIMEOUT_MS;
  while (Atomics.load(c.signal, 0) === 0) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`sync-pg: no answer within ${TIMEOUT_MS / 1000} s to ${message.sql ?? "close"}`);
    Atomics.wait(c.signal, 0, 0, left);
  }
  const reply = receiveMessageOnPort(c.port)?.message as Reply | undefined;
  if (!reply) throw new Error("sync-pg: the worker signalled without a reply");
  if (reply.error) throw Object.assign(new Error(`${reply.error.message} (in: ${message.sql})`), { code: reply.error.code });
  return { rows: (reply.rows ?? []).map(buffers), changes: reply.changes ?? 0 };
}

/** bytea arrives as a Uint8Array (structured clone drops the Buffer class); tests expect a Buffer, as from SQLite. */
function buffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return row;
}

/** `?` → `$1…$n` outside quoted strings and identifiers (the tests write SQLite's placeholders). */
export function numbered(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = "";
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "?") {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Runs one statement (or, without params, several) and returns its rows and the rows it touched. */
export function pgQuery<T = Record<string, unknown>>(url: string, sql: string, params: readonly unknown[] = []): { rows: T[]; changes: number } {
  const r = call({ url, sql: params.length ? numbered(sql) : sql, params: params.map((p) => (typeof p === "boolean" ? Number(p) : p)) });
  return { rows: r.rows as T[], changes: r.changes };
}

/** Closes this thread's client of that database (ending a transaction it left open). */
export function pgClose(url: string): void {
  call({ url, end: true });
}
