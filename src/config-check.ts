// What `config check`, `config show` and `doctor` add to parseConfig: checks across keys that the
// type checks cannot see, and masking of secrets for printing. Pure; no file or network access.
import type { Config } from "./config.js";

export interface ConfigProblem {
  key: string;
  message: string;
}

/** Problems parseConfig lets through because each key alone is well typed. */
export function configProblems(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const o = config.outbound;
  if (o.transport === "smtp") {
    if (!o.url) out.push({ key: "outbound.url", message: 'is required when outbound.transport is "smtp"' });
    else if (!smtpUrl(o.url)) out.push({ key: "outbound.url", message: "must be an smtp:// or smtps:// URL" });
  }
  return out;
}

/** host and port of an smtp:// or smtps:// URL (nodemailer's defaults: 587, or 465 when secure), else null. */
export function smtpUrl(url: string): { host: string; port: number; secure: boolean } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") return null;
  const secure = u.protocol === "smtps:";
  // URL keeps IPv6 hosts in brackets; net.connect wants them bare.
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : secure ? 465 : 587, secure };
}

const MASK = "********";
// Key names that hold secrets: addressSecret, passwords, a web console's password hash, tokens.
const SECRET_KEY = /secret|password|passwd|hash|token|credential|apikey|api_key/i;

/**
 * A deep copy with secret values replaced by a mask: values under secret-looking keys, and the
 * password in any URL (smtp://user:password@host). null stays null, so "not set" stays visible.
 */
export function maskSecrets<T>(value: T, key = ""): T {
  if (value === null || value === undefined) return value;
  if (SECRET_KEY.test(key) && typeof value !== "object") return MASK as T;
  if (typeof value === "string") return maskUrlPassword(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key)) as T;
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskSecrets(v, k)])) as T;
  }
  return value;
}

function maskUrlPassword(s: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(s)) return s;
  try {
    const u = new URL(s);
    if (u.password) u.password = MASK;
    return u.toString();
  } catch {
    return s;
  }
}

/** True when the configuration holds a secret worth protecting with the file's mode. */
export function holdsSecrets(config: Config): boolean {
  return JSON.stringify(maskSecrets(config)) !== JSON.stringify(config);
}
