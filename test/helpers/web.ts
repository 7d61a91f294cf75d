// Starting and stopping the web console of the built binary on a free loopback port, and the
// headless Chromium the browser tests drive (Debian's `chromium` package, installed by .ci/run).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { bin, type Sandbox } from "./cli.js";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);

export interface Console {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** `ingest-mail web --listen 127.0.0.1:0`, resolved once it prints the address it listens on. */
export function startConsole(sb: Sandbox, args: string[] = []): Promise<Console> {
  const child = spawn(process.execPath, [bin, "web", "--listen", "127.0.0.1:0", ...args], { env: sb.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const stop = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once("exit", (code) => resolve(code));
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`web console did not start: ${out}`))), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d) => (out += d));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`web console exited ${code}: ${out}`));
    });
  });
}
