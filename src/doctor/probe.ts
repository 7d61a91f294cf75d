// `ingest-mail doctor`: the facts, gathered from the file system, the database and the network as the
// user running the checks. Nothing here creates, changes or removes anything (the database is opened
// read-only, a folder's writability is asked of access(2)).
import Database from "better-sqlite3";
import { accessSync, constants, existsSync, lstatSync, statSync, statfsSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { connect as tlsConnect } from "node:tls";
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
  tables: string[];
  count: (sql: string, ...params: unknown[]) => number;
  close: () => void;
}

/** Opens the database read-only (never creating or migrating it) and answers counts. */
export function probeDatabase(path: string): DbProbe {
  const none: DbProbe = { path, exists: true, error: null, userVersion: null, tables: [], count: () => 0, close: () => {} };
  try {
    none.size = statSync(path).size;
  } catch (e) {
    // Not there, or not reachable (a folder on the way the user may not search): not the same fix.
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { ...none, exists: false } : { ...none, error: `cannot reach it (${code})` };
  }
  let client: Database.Database;
  try {
    client = new Database(path, { readonly: true, fileMustExist: true });
    const tables = (client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    const userVersion = client.pragma("user_version", { simple: true }) as number;
    return {
      ...none,
      userVersion,
      tables,
      count: (sql, ...params) => {
        try {
          return Number((client.prepare(sql).get(...params) as { n: number }).n);
        } catch {
          return 0;
        }
      },
      close: () => client.close(),
    };
  } catch (e) {
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
