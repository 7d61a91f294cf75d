// `ingest-mail web`: the console on one address. Loaded only by that command (its own bundle,
// scripts/bundle.mjs), so the MTA's ingest path never parses any of it.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Deps } from "../pipeline/deps.js";
import { createApp } from "./app.js";

export interface Listen {
  host: string;
  port: number;
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/** Loopback names and addresses (RFC 6890: 127.0.0.0/8, ::1). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export async function startWeb(deps: Deps, listen: Listen): Promise<WebServer> {
  const loopback = isLoopback(listen.host);
  const bare = listen.host.replace(/^\[|\]$/g, "");
  let allowed: string[] | null = null;
  const { app, ctx } = createApp(deps, {
    passwordHash: deps.config.web.passwordHash,
    // On loopback, a page elsewhere could reach us through a name it re-points at 127.0.0.1 (DNS
    // rebinding): only the names of this address are answered.
    get allowedHosts() {
      return allowed;
    },
  });
  // The one grouped count over a million rows happens now, not on the first page someone opens.
  await ctx.counts();
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: bare, port: listen.port }, (info: AddressInfo) => {
      const shown = info.family === "IPv6" ? `[${info.address}]` : info.address;
      if (loopback) allowed = [`${shown}:${info.port}`, `localhost:${info.port}`, `127.0.0.1:${info.port}`, `[::1]:${info.port}`].map((h) => h.toLowerCase());
      resolve({
        url: `http://${shown}:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once("error", reject);
  });
}
export { hashPassword } from "./password.js";
