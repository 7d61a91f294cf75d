// `ingest-mail web [--listen 127.0.0.1:8025]`: the admin console (issue 15). `web passwd` sets its
// login password. The console itself is its own bundle (dist/bundle/web.cjs), loaded only here.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { ConfigError, UsageError } from "../../errors.js";
import { makeDeps, type CommonOptions } from "../context.js";

export interface WebOptions extends CommonOptions {
  listen: string;
}

/** host:port, [v6]:port or a bare port (on 127.0.0.1). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(s.trim());
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be host:port (e.g. 127.0.0.1:8025), got "${s}"`);
  return { host: m[1] ?? "127.0.0.1", port: Number(m[2]) };
}

export async function run(opts: WebOptions): Promise<void> {
  const listen = parseListen(opts.listen);
  const { isLoopback, startWeb } = await import("../../web/server.js");
  const deps = await makeDeps(opts);
  if (!isLoopback(listen.host) && !deps.config.web.passwordHash) {
    throw new ConfigError(`web: listening on ${listen.host} (not loopback) needs a login: set one with \`ingest-mail web passwd --config FILE\` first`);
  }
  const server = await startWeb(deps, listen);
  process.stdout.write(`ingest-mail web console on ${server.url}${deps.config.web.passwordHash ? " (login required)" : ""}\n`);
  // Serve until told to stop; then close the listener and let the command return (main.ts exits).
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]);
  await deps.store.close();
}

/** `web passwd`: reads the password from stdin (no echo on a terminal), writes its hash to the config. */
export async function passwd(opts: CommonOptions): Promise<void> {
  const file = opts.config ?? process.env.INGEST_MAIL_CONFIG;
  if (!file) throw new UsageError("web passwd writes the password hash into the config file: give --config FILE (or INGEST_MAIL_CONFIG)");
  let config: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      config = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConfigError(`config: ${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const password = await readPassword();
  if (password.length < 10) throw new UsageError("the password must have at least 10 characters");
  const { hashPassword } = await import("../../web/server.js");
  const web = typeof config.web === "object" && config.web !== null ? (config.web as Record<string, unknown>) : {};
  config.web = { ...web, passwordHash: hashPassword(password) };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  process.stdout.write(`password hash written to ${file} (web.passwordHash)\n`);
}

async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) text += chunk;
    return text.split(/\r?\n/)[0];
  }
  process.stderr.write("new console password: ");
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  let pw = "";
  try {
    for await (const ch of stdin as AsyncIterable<string>) {
      if (ch === "\r" || ch === "\n") break;
      if (ch === "\u0003") throw new UsageError("cancelled");
      if (ch === "\u007f") pw = pw.slice(0, -1);
      else pw += ch;
    }
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
  return pw;
}
