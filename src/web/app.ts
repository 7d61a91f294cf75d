// The console as one Hono application: security first, then one route file per page.
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Deps } from "../pipeline/deps.js";
import { makeContext, type WebContext } from "./context.js";
import { register as actions } from "./routes/actions.js";
import { register as downloads } from "./routes/downloads.js";
import { register as issues } from "./routes/issues.js";
import { register as stagedList } from "./routes/staged-list.js";
import { register as stagedMail } from "./routes/staged-mail.js";
import { guard, securityHeaders, Security, type SecurityOptions, type WebEnv } from "./security.js";
import { css } from "./style.js";

// Unicode TR36 §2.5: a right-to-left override shows "report<RLO>fdp.exe" as "reportexe.pdf", and
// terminal escapes, C1 controls and BEL have no business in a page. Our templates write none of
// them, so every one in a page came from a mail: each is shown as U+FFFD, on every page at once,
// rather than by remembering a helper at each place a mail's text is written (a From, a subject in
// a heading, a conversation's names: places were missed).
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

const visibleControls: MiddlewareHandler<WebEnv> = async (c, next) => {
  await next();
  if (!c.res.headers.get("content-type")?.startsWith("text/html")) return;
  const html = await c.res.text();
  const headers = new Headers(c.res.headers);
  headers.delete("content-length");
  c.res = new Response(html.replace(INVISIBLE, "\ufffd"), { status: c.res.status, headers });
};

export function createApp(deps: Deps, security: SecurityOptions, opts: { countsMaxAgeMs?: number } = {}): { app: Hono<WebEnv>; ctx: WebContext } {
  const app = new Hono<WebEnv>();
  const ctx = makeContext(deps, new Security(security), opts);
  app.use("*", securityHeaders);
  app.use("*", visibleControls);
  app.get("/style.css", (c) => c.body(css, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=300" }));
  // Forms carry a token, a subject or a password: nothing larger is ever posted here.
  app.use("*", bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("request too large", 413) }));
  app.use("*", guard(ctx.sec));
  for (const register of [stagedList, stagedMail, downloads, issues, actions]) register(app, ctx);
  app.notFound((c) => c.text("not found", 404));
  app.onError((e, c) => {
    deps.log(`web console: ${c.req.method} ${c.req.path}: ${e.message}`);
    return c.text("internal error: see the log file", 500);
  });
  return { app, ctx };
}
