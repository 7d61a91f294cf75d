// Builds the dependencies object for a command: configuration, database, paths, clock, ids.
import { hostname } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../config.js";
import { openDb } from "../db/open.js";
import { fileLogger, resolvePaths, systemClock, systemGuid, type Deps, type Mailer } from "../pipeline/deps.js";

export interface CommonOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/** --db, else INGEST_MAIL_DB, else $XDG_DATA_HOME/ingest-mail/ingest-mail.db (~/.local/share/...). */
export function defaultDbPath(env: NodeJS.ProcessEnv): string {
  if (env.INGEST_MAIL_DB) return env.INGEST_MAIL_DB;
  const dataHome = env.XDG_DATA_HOME || (env.HOME ? join(env.HOME, ".local", "share") : "/var/lib");
  return join(dataHome, "ingest-mail", "ingest-mail.db");
}

export function loadCommonConfig(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(opts.config, env);
}

export function makeDeps(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env, loaded?: Config): Deps {
  const config = loaded ?? loadCommonConfig(opts, env);
  const paths = resolvePaths(opts.db ?? defaultDbPath(env), config);
  const db = openDb(paths.db, { busyTimeoutMs: config.busyTimeoutMs });
  let mailer: Promise<Mailer> | null = null;
  return {
    db,
    config,
    paths,
    now: systemClock,
    newGuid: systemGuid,
    log: fileLogger(config.logFile, systemClock),
    mailer: () => (mailer ??= import("../outbound/transport.js").then((m) => m.createMailer(config, paths))),
    hostname: config.outbound.host ?? hostname(),
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
