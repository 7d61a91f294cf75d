// `ingest-mail doctor`: the facts, gathered from the file system, the database and the network as the
// user running the checks. Nothing here creates, changes or removes anything (the database is opened
// read-only, a folder's writability is asked of access(2)).
import { accessSync, constants, existsSync, lstatSync, statSync, statfsSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { maskSecrets } from "../config-check.js";
import { isDatabaseUrl, openStore } from "../store/open.js";
import { inspectSqliteStore } from "../store/sqlite/engine.js";
import type { Store } from "../store/store.js";
import { printable, type DatabaseFacts, type GreetingFacts, type PathFacts, type SendmailFacts } from "./checks.js";

const can = (path: string, mode: number): boolean => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};

/** The nearest existing folder at or above path. */
export function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

export function pathFacts(path: string): PathFacts {
  let l;
  try {
    l = lstatSync(path);
  } catch {
    const parent = nearestExisting(dirname(path));
    return { path, exists: false, isSymlink: false, isDir: false, uid: -1, mode: 0, writable: false, parentWritable: can(parent, constants.W_OK | constants.X_OK) };
  }
  let s = l;
  if (l.isSymbolicLink()) {
    try {
      s = statSync(path);
    } catch {
      // A dangling link: reported as the link itself, which is neither a folder nor writable.
    }
  }
  const isDir = s.isDirectory();
  return {
    path,
    exists: true,
    isSymlink: l.isSymbolicLink(),
    isDir,
    uid: s.uid,
    mode: s.mode,
    writable: can(path, isDir ? constants.W_OK | constants.X_OK : constants.W_OK),
    parentWritable: can(dirname(path), constants.W_OK | constants.X_OK),
  };
}

export interface DbProbe extends DatabaseFacts {
  /** The store, when it opened: what the counts are asked of. */
  store: Store | null;
  /** The schema version this program writes for the database's engine (describe()), when open. */
  programSchemaVersion: number | null;
  /** Whether the database has this table (unknown for an engine that does not list them: yes). */
  has: (table: string) => boolean;
  close: () => Promise<void>;
}

/**
 * Opens the database read-only (never creating or migrating it): a SQLite file as it is found, so
 * that an empty, foreign or newer one is reported rather than refused; a PostgreSQL database through
 * the store, which refuses those itself (the refusal is the finding).
 */
export async function probeDatabase(target: string, busyTimeoutMs: number): Promise<DbProbe> {
  const url = isDatabaseUrl(target);
  const none: DbProbe = { path: url ? maskSecrets(target) : target, server: url, exists: true, error: null, userVersion: null, store: null, programSchemaVersion: null, has: () => false, close: async () => {} };
  if (!url) {
    try {
      none.size = statSync(target).size;
    } catch (e) {
      // Not there, or not reachable (a folder on the way the user may not search): not the same fix.
      const code = (e as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? { ...none, exists: false } : { ...none, error: `cannot reach it (${code})` };
    }
  }
  let store: Store | null = null;
  try {
    store = url ? await openStore(target, { readonly: true, busyTimeoutMs }) : inspectSqliteStore(target);
    const facts = await store.describe();
    const tables = typeof facts.tables === "string" ? facts.tables.split(",").filter(Boolean) : null;
    const open = store;
    return {
      ...none,
      path: store.location,
      userVersion: Number(facts.schemaVersion ?? 0),
      programSchemaVersion: typeof facts.programSchemaVersion === "number" ? facts.programSchemaVersion : null,
      tables: tables ?? undefined,
      store,
      has: (table) => tables === null || tables.includes(table),
      close: () => open.close(),
    };
  } catch (e) {
    await store?.close().catch(() => {});
    return { ...none, error: printable(String((e as Error).message ?? e)) };
  }
}

/** A program as spawn() finds it: a path as given, a bare name on PATH. */
export function whichProgram(name: string, envPath = process.env.PATH ?? ""): string {
  if (name.includes("/")) return name;
  for (const dir of envPath.split(":").filter(Boolean)) if (can(join(dir, name), constants.X_OK)) return join(dir, name);
  return name;
}

export function sendmailFacts(name: string): SendmailFacts {
  const path = whichProgram(name);
  const exists = existsSync(path);
  let file = false;
  try {
    file = statSync(path).isFile();
  } catch {
    // missing or unreachable: not executable
  }
  return { path, exists, executable: file && can(path, constants.X_OK) };
}

/**
 * Connects and waits for the server's greeting (RFC 5321 §4.3.1: 220, possibly multi-line), then
 * says QUIT. Reads at most 4 KiB; gives up after timeoutMs.
 */
export function smtpGreeting(host: string, port: number, secure: boolean, timeoutMs: number): Promise<GreetingFacts> {
  const target = `${host}:${port}${secure ? " (TLS)" : ""}`;
  const started = Date.now();
  return new Promise((resolve) => {
    let done = false;
    let buf = "";
    let socket: Socket;
    const finish = (code: number | null, text: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (code !== null) socket.end("QUIT\r\n");
      socket.destroySoon?.();
      setTimeout(() => socket.destroy(), 200).unref();
      resolve({ target, code, text: printable(text), ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(null, `no greeting within ${timeoutMs} ms`), timeoutMs);
    socket = secure ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      // The last line of a reply is "NNN text" (a space after the code); earlier ones "NNN-text".
      for (const line of buf.split(/\r?\n/).slice(0, -1)) {
        const m = /^(\d{3})( |$)(.*)$/.exec(line);
        if (m) return finish(Number(m[1]), m[3]);
      }
      if (buf.length > 4096) finish(null, "no reply line in the first 4 KiB");
    });
    socket.on("error", (e) => finish(null, (e as NodeJS.ErrnoException).code ?? e.message));
    socket.on("close", () => finish(null, "closed before greeting"));
  });
}

/** Free and total bytes of the file system holding path (its nearest existing folder). */
export function diskFacts(path: string): { path: string; free: number; total: number; dev: number } | null {
  const at = nearestExisting(path);
  try {
    const s = statfsSync(at);
    return { path: at, free: s.bavail * s.bsize, total: s.blocks * s.bsize, dev: statSync(at).dev };
  } catch {
    return null;
  }
}
