// Where the configuration comes from (issue 14): --config, else INGEST_MAIL_CONFIG, else the
// system file /etc/ingest-mail/config.json, else the user's $XDG_CONFIG_HOME/ingest-mail/config.json
// (~/.config), else the built-in defaults. The first two are taken as given (a missing file is an
// error); the last two only when they exist.
import { existsSync } from "node:fs";
import { join } from "node:path";

export const SYSTEM_CONFIG = "/etc/ingest-mail/config.json";

export type ConfigSource = "option" | "env" | "system" | "user" | "defaults";

export interface ConfigLocation {
  /** The file to read, or null for the built-in defaults. */
  file: string | null;
  source: ConfigSource;
}

/** What each source means, for `config show` and `doctor`. */
export const SOURCE_LABEL: Record<ConfigSource, string> = {
  option: "--config",
  env: "INGEST_MAIL_CONFIG",
  system: "system file",
  user: "user file ($XDG_CONFIG_HOME)",
  defaults: "built-in defaults (no file found)",
};

/**
 * The system file's path: INGEST_MAIL_SYSTEM_CONFIG overrides /etc/ingest-mail/config.json (for a
 * packager's own prefix, and so that tests never read a real /etc/ingest-mail).
 */
export const systemConfigPath = (env: NodeJS.ProcessEnv): string => env.INGEST_MAIL_SYSTEM_CONFIG || SYSTEM_CONFIG;

/** $XDG_CONFIG_HOME/ingest-mail/config.json (~/.config when unset), or null with neither set. */
export function userConfigPath(env: NodeJS.ProcessEnv): string | null {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, ".config") : null);
  return base ? join(base, "ingest-mail", "config.json") : null;
}

/** The lookup order, with `exists` injectable so the order is tested without touching /etc. */
export function locateConfig(path: string | undefined, env: NodeJS.ProcessEnv, exists: (file: string) => boolean = existsSync): ConfigLocation {
  if (path) return { file: path, source: "option" };
  if (env.INGEST_MAIL_CONFIG) return { file: env.INGEST_MAIL_CONFIG, source: "env" };
  const system = systemConfigPath(env);
  if (exists(system)) return { file: system, source: "system" };
  const user = userConfigPath(env);
  if (user && exists(user)) return { file: user, source: "user" };
  return { file: null, source: "defaults" };
}

/**
 * Why JSON.parse refused the text, as "line L, column C: reason", without any of the text itself:
 * V8's messages quote the text around the error, and a config file holds secrets (issue 9, 14).
 */
export function describeJsonError(text: string, e: unknown): string {
  if (text.trim() === "") return "the file is empty";
  const message = String((e as Error)?.message ?? e);
  const at = /at position (\d+)/.exec(message);
  const pos = at ? Number(at[1]) : firstBadPosition(text);
  const reason = message
    .replace(/, ".*" is not valid JSON$/s, "")
    .replace(/\s*in JSON at position \d+.*$/s, "")
    .replace(/^Unexpected token .*$/s, "unexpected character");
  if (pos === null) return reason;
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return `line ${line}, column ${column}: ${reason}`;
}

/** The first position at which no valid JSON can continue (binary search over prefixes; config-sized input). */
function firstBadPosition(text: string): number | null {
  const broken = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (err) {
      const m = String((err as Error).message);
      const at = /at position (\d+)/.exec(m);
      if (at) return Number(at[1]) < k && !/Unterminated string/.test(m);
      return /^Unexpected token/.test(m);
    }
  };
  if (!broken(text.length)) return null;
  let lo = 0;
  let hi = text.length; // broken(hi) holds
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (broken(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}
