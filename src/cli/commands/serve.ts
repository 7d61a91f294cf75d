// `ingest-mail serve --lmtp ADDR`: the long-running delivery mode (issue 12). Returns when the daemon
// has shut down after SIGTERM, so main.ts exits 0 as for every other command. `--check` only checks
// what the daemon needs (configuration, database, listen address) and says so.
import { accessSync, constants, existsSync, lstatSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { ConfigError, TempFailError, UsageError } from "../../errors.js";
import type { Deps } from "../../pipeline/deps.js";
import { describeAddress, parseListenAddress, type ListenAddress } from "../../serve/address.js";
import { Daemon } from "../../serve/daemon.js";
import { withConfig } from "../../serve/deps.js";
import { stderrLog } from "../../serve/log.js";
import { onSignals } from "../../serve/signals.js";
import { WriteLock } from "../../serve/write-lock.js";
import { creatableIn } from "../../fsafe.js";
import { isDatabaseUrl } from "../../store/open.js";
import { databaseTarget, loadCommonConfig, makeDeps, printJson, type CommonOptions } from "../context.js";

export interface ServeOptions extends CommonOptions {
  lmtp: string;
  maxConnections?: number;
  maxBytesInFlight?: number;
  queue?: number;
  drainTimeout?: number;
  sweepInterval?: number;
  groupWindow?: number;
  socketMode?: string;
  inline?: boolean;
  check?: boolean;
}

export const SERVE_DEFAULTS = {
  maxConnections: 64,
  maxBytesInFlight: 256 * 1024 * 1024,
  queue: 10_000,
  drainTimeout: 20,
  sweepInterval: 60,
  groupWindow: 2,
  socketMode: "660",
};

export async function run(opts: ServeOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const address = parseListenAddress(opts.lmtp, env, process.pid);
  const socketMode = parseInt(opts.socketMode ?? SERVE_DEFAULTS.socketMode, 8);
  if (!/^[0-7]{3,4}$/.test(opts.socketMode ?? SERVE_DEFAULTS.socketMode)) throw new UsageError(`--socket-mode "${opts.socketMode}": expected octal permissions such as 660`);
  if (opts.check) return check(opts, address, env);
  const log = stderrLog();
  const { deps, lock } = await openDeps(opts, env);
  const daemon = new Daemon(
    deps,
    {
      address,
      maxConnections: opts.maxConnections ?? SERVE_DEFAULTS.maxConnections,
      maxBytesInFlight: opts.maxBytesInFlight ?? SERVE_DEFAULTS.maxBytesInFlight,
      queueCapacity: opts.queue ?? SERVE_DEFAULTS.queue,
      drainSeconds: opts.drainTimeout ?? SERVE_DEFAULTS.drainTimeout,
      sweepSeconds: opts.sweepInterval ?? SERVE_DEFAULTS.sweepInterval,
      groupWindowMs: opts.groupWindow ?? SERVE_DEFAULTS.groupWindow,
      socketMode,
      inline: opts.inline ?? false,
      worker: { db: opts.db, config: opts.config, lock },
    },
    log,
  );
  let current = deps;
  const off = onSignals({
    stop: (signal) => {
      log(`${signal} received`);
      void daemon.stop();
    },
    reload: () => {
      // The database and the listen address stay as they are (they would need a restart);
      // everything the configuration file says applies to the next transaction.
      try {
        current = withConfig(current, loadCommonConfig(opts, env));
        daemon.reload(current);
      } catch (e) {
        log(`SIGHUP: configuration NOT reloaded, the previous one stays: ${(e as Error).message}`);
      }
    },
    status: () => void daemon.status().then((s) => log(`status ${JSON.stringify(s)}`)),
  });
  try {
    await daemon.start().catch((e: NodeJS.ErrnoException) => {
      throw listenFault(e, address);
    });
    await daemon.done;
  } finally {
    off();
  }
}

/**
 * A listen address that cannot be taken: in use (another daemon; it may go away: 75, systemd tries
 * again) or wrong (a file that is not a socket, a folder we may not write, an address not ours: 78).
 * Anything else stays what it was.
 */
function listenFault(e: NodeJS.ErrnoException, address: ListenAddress): Error {
  const where = `cannot listen on ${describeAddress(address)}: ${e.message}`;
  if (e.code === "EADDRINUSE") return new TempFailError(where);
  if (e.code && ["EEXIST", "ENOTSOCK", "EACCES", "EPERM", "EADDRNOTAVAIL", "ENOENT", "ENOTDIR"].includes(e.code)) return new ConfigError(where);
  return e;
}

/**
 * The daemon's dependencies. A delivery mode, like ingest: it may create the database (issue 10:
 * admin commands may not). On SQLite the write transactions of its two threads take turns through
 * one lock, staging first (serve/write-lock.ts); the processing thread gets the lock's buffer. On
 * PostgreSQL there is no lock: the server has row locks, and several daemons may share one
 * database (issue 12.7).
 */
async function openDeps(opts: ServeOptions, env: NodeJS.ProcessEnv): Promise<{ deps: Deps; lock?: SharedArrayBuffer }> {
  const config = loadCommonConfig(opts, env);
  const stager = new WriteLock(undefined, config.busyTimeoutMs, true);
  // makeDeps hands the lock to a SQLite store only.
  const deps = await makeDeps(opts, env, config, { create: true, writeTurn: stager });
  return { deps, lock: deps.store.engine === "sqlite" ? stager.buffer : undefined };
}

interface CheckLine {
  what: string;
  ok: boolean;
  detail: string;
}

/** `serve --check`: configuration, database (writable), listen address; exit 78 / 75 on a failure. */
async function check(opts: ServeOptions, address: ListenAddress, env: NodeJS.ProcessEnv): Promise<void> {
  const lines: CheckLine[] = [];
  let deps: Deps | null = null;
  try {
    const config = loadCommonConfig(opts, env);
    lines.push({ what: "config", ok: true, detail: opts.config ?? env.INGEST_MAIL_CONFIG ?? "built-in defaults" });
    const target = databaseTarget(opts, config, env);
    const file = isDatabaseUrl(target) ? null : resolve(target);
    if (file && !existsSync(file)) {
      // serve creates it (a delivery mode, like ingest); the check makes nothing: may it?
      const { folder, writable } = creatableIn(file);
      if (!writable) throw new Error(`${file} does not exist, and ${folder} is not writable: serve could not create it`);
      lines.push({ what: "database", ok: true, detail: `${file} (does not exist yet: serve creates it in ${folder})` });
    } else {
      deps = await makeDeps(opts, env, config);
      await deps.db.write(async () => undefined);
      lines.push({ what: "database", ok: true, detail: `${deps.paths.db} (writable)` });
    }
  } catch (e) {
    lines.push({ what: lines.length ? "database" : "config", ok: false, detail: (e as Error).message });
  } finally {
    await deps?.store.close();
  }
  lines.push(await checkAddress(address));
  if (opts.json) printJson({ ok: lines.every((l) => l.ok), checks: lines });
  else process.stdout.write(lines.map((l) => `${l.ok ? "ok  " : "FAIL"} ${l.what}: ${l.detail}`).join("\n") + "\n");
  const failed = lines.find((l) => !l.ok);
  if (failed?.what === "config") throw new ConfigError(`serve --check: ${failed.detail}`);
  if (failed) throw new TempFailError(`serve --check: ${failed.what}: ${failed.detail}`);
}

async function checkAddress(a: ListenAddress): Promise<CheckLine> {
  const what = `listen ${describeAddress(a)}`;
  if (a.kind === "fd") return { what, ok: true, detail: "passed in by systemd" };
  if (a.kind === "unix") {
    const dir = dirname(a.path);
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      return { what, ok: false, detail: `${dir} is missing or not writable` };
    }
    if (existsSync(a.path) && !lstatSync(a.path).isSocket()) return { what, ok: false, detail: `${a.path} exists and is not a socket (serve never removes it)` };
    return { what, ok: true, detail: existsSync(a.path) ? "socket file present (a running daemon, or stale: removed on start)" : `${dir} writable` };
  }
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", (e) => resolve({ what, ok: false, detail: (e as Error).message }));
    s.listen(a.port, a.host, () => s.close(() => resolve({ what, ok: true, detail: "the port is free" })));
  });
}
