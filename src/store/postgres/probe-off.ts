// Imported by driver.ts just before pg, so that it runs first: pg's module-level check for Cloudflare
// Workers (pg/lib/stream.js) reads the global `Response` when there is no `navigator` (Node 20),
// and that getter loads undici, fetch's implementation: 13 of the 37 ms pg took to load (measured,
// issue 11.9 cold start). A `navigator` present while pg loads answers the check ("not Cloudflare").
const g = globalThis as { navigator?: unknown };
const added = typeof g.navigator === "undefined";
if (added) Object.defineProperty(g, "navigator", { value: { userAgent: "node" }, configurable: true });

/** Takes the stand-in away again (driver.ts, once pg is loaded). */
export function restoreNavigator(): void {
  if (added) delete g.navigator;
}
