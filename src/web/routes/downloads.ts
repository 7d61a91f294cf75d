// Files out of a mail (issue 15 §2, §3): attachments under their original name, the raw message,
// and the HTML body for the sandboxed frame. Every one is a download or sandboxed document, typed
// by us (never by the mail), with nosniff.
import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { attachmentFile, htmlBodyOf, rawOf } from "../../store/queries/web-queries.js";
import type { App, WebContext } from "../context.js";
import { MAIL_HTML_CSP } from "../security.js";

/**
 * RFC 6266 §4.3: an ASCII `filename` for old agents and `filename*` (RFC 8187) with the real name.
 * The name is data from the mail: path parts, control characters and quotes never reach the header.
 */
export function contentDisposition(name: string | null, fallback: string): string {
  const base = (name ?? "").split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f"\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim().slice(0, 200);
  const clean = base.replace(/^\.+/, "") || fallback;
  const ascii = clean.replace(/[^A-Za-z0-9._ ()+-]/g, "_");
  const star = encodeURIComponent(clean).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${star}`;
}

function fileResponse(path: string, size: number, headers: Record<string, string>): Response {
  const stream = Readable.toWeb(createReadStream(path)) as ReadableStream;
  return new Response(stream, { headers: { ...headers, "Content-Length": String(size) } });
}

export function register(app: App, ctx: WebContext): void {
  app.get("/staged/:id{[0-9]+}/raw", async (c) => {
    const id = Number(c.req.param("id"));
    const r = await rawOf(ctx.deps.db, id);
    if (!r) return c.notFound();
    const headers = { "Content-Type": "application/octet-stream", "Content-Disposition": contentDisposition(`staged-${id}.eml`, "message.eml") };
    if (r.raw) return new Response(new Uint8Array(r.raw), { headers: { ...headers, "Content-Length": String(r.raw.length) } });
    if (!r.rawPath) return c.text("the raw message is not kept", 404);
    return fileResponse(r.rawPath, statSync(r.rawPath).size, headers);
  });

  app.get("/staged/:id{[0-9]+}/attachments/:aid{[0-9]+}", async (c) => {
    const a = await attachmentFile(ctx.deps.db, Number(c.req.param("id")), Number(c.req.param("aid")));
    if (!a) return c.notFound();
    // Served as bytes to save, whatever type the mail claimed: never rendered in our origin.
    return fileResponse(a.storedPath, statSync(a.storedPath).size, { "Content-Type": "application/octet-stream", "Content-Disposition": contentDisposition(a.filename, `attachment-${a.id}`) });
  });

  app.get("/staged/:id{[0-9]+}/html-body", async (c) => {
    const html = await htmlBodyOf(ctx.deps.db, Number(c.req.param("id")));
    if (!html) return c.notFound();
    return new Response(html, {
      headers: { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": MAIL_HTML_CSP, "X-Frame-Options": "SAMEORIGIN" },
    });
  });
}
