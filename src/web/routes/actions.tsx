/** @jsxImportSource hono/jsx */
// Actions (issue 15 §2): bulk resubmit of a filtered set, the outbox with failed sends and retry,
// login and logout. Every state change here is a POST that passed the CSRF check (security.ts).
import { outboundPage, resubmittableIds } from "../../store/queries/web-queries.js";
import type { App, WebContext } from "../context.js";
import { Badge, Csrf, Page, qs, when } from "../layout.js";
import { filterParams, readFilter } from "./staged-list.js";

const BULK_LIMIT = 1000;

export function register(app: App, ctx: WebContext): void {
  app.post("/actions/bulk-resubmit", async (c) => {
    const body = await c.req.parseBody();
    const f = readFilter((k) => (typeof body[k] === "string" ? (body[k] as string) : undefined));
    const ids = await resubmittableIds(ctx.deps.db, f, BULK_LIMIT);
    const { resubmit } = await import("../adapter.js");
    const results: { id: number; status: string; note: string }[] = [];
    for (const id of ids) {
      const r = await resubmit(ctx.deps, id);
      results.push(r.ok ? { id, status: r.outcome.status, note: r.outcome.issues.map((i) => i.reference).join(", ") || (r.outcome.reason ?? r.outcome.error ?? "") } : { id, status: "refused", note: r.reason });
    }
    ctx.invalidateCounts();
    const tally = new Map<string, number>();
    for (const r of results) tally.set(r.status, (tally.get(r.status) ?? 0) + 1);
    return c.html(
      <Page title="Bulk resubmit" section="staged" csrf={c.var.csrf} loggedIn={ctx.sec.loginRequired}>
        <h1>Bulk resubmit</h1>
        <p class="panel notice">
          {results.length ? `Resubmitted ${results.length} mail: ${[...tally].map(([s, n]) => `${n} ${s}`).join(", ")}.` : "Nothing matched the filter."}{" "}
          {ids.length === BULK_LIMIT && "More may match: run it again for the next 1,000."} <a href={`/${qs(filterParams(f))}`}>Back to the list</a>
        </p>
        <table class="list">
          <tbody>
            {results.map((r) => (
              <tr>
                <td class="num">
                  <a href={`/staged/${r.id}`}>{r.id}</a>
                </td>
                <td>
                  <Badge status={r.status} />
                </td>
                <td>{r.note}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Page>,
    );
  });

  app.get("/outbox", async (c) => {
    const status = ["sent", "failed", "skipped", "sending", "digest", "digested"].includes(c.req.query("status") ?? "") ? c.req.query("status") : undefined;
    const before = Number(c.req.query("before")) || undefined;
    const page = await outboundPage(ctx.deps.db, { status }, { limit: ctx.pageSize, before });
    const msg = ctx.flash(c.var.session.id);
    return c.html(
      <Page title="Outbox" section="outbox" csrf={c.var.csrf} loggedIn={ctx.sec.loginRequired}>
        <h1>Outbox</h1>
        {msg && (
          <p class="panel notice" role="status">
            {msg}
          </p>
        )}
        <ul class="tabs" aria-label="Status">
          <li>
            <a href="/outbox" aria-current={status ? undefined : "true"}>
              all
            </a>
          </li>
          {["failed", "sent", "skipped"].map((s) => (
            <li>
              <a href={`/outbox?status=${s}`} aria-current={status === s ? "true" : undefined}>
                <Badge status={s} />
                {s === "failed" && <span class="n">{page.failed}</span>}
              </a>
            </li>
          ))}
        </ul>
        {page.rows.length === 0 ? (
          <p class="panel">No outgoing mail.</p>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">To</th>
                <th scope="col">Subject</th>
                <th scope="col">Error</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((o) => (
                <tr>
                  <td class="num" data-label="ID">
                    {o.id}
                  </td>
                  <td class="num" data-label="Created">
                    {when(o.createdAt)}
                  </td>
                  <td data-label="Kind">
                    {o.kind}
                    {o.issueId ? (
                      <>
                        {" "}
                        <a href={`/issues/${o.issueId}`}>issue {o.issueId}</a>
                      </>
                    ) : null}
                  </td>
                  <td data-label="Status">
                    <Badge status={o.status} />
                  </td>
                  <td data-label="To">{o.toAddress}</td>
                  <td class="subject" data-label="Subject">
                    {o.subject}
                  </td>
                  <td data-label="Error">{o.error ?? ""}</td>
                  <td>
                    {o.status === "failed" && (
                      <form method="post" action={`/outbox/${o.id}/retry`}>
                        <Csrf token={c.var.csrf} />
                        <button type="submit">Retry</button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="pager">
          {before && <a href={`/outbox${qs({ status })}`}>« Newest</a>}
          {page.before && <a href={`/outbox${qs({ status, before: page.before })}`}>Older »</a>}
        </div>
      </Page>,
    );
  });

  app.post("/outbox/:id{[0-9]+}/retry", async (c) => {
    const { retryOutbound } = await import("../adapter.js");
    const r = await retryOutbound(ctx.deps, Number(c.req.param("id")));
    const msg = r.ok ? `Outbound mail ${c.req.param("id")}: ${r.status}${r.error ? ` (${r.error})` : ""}` : r.reason;
    ctx.flash(c.var.session.id, msg);
    return c.redirect("/outbox", 303);
  });

  app.get("/login", (c) => {
    if (!ctx.sec.loginRequired) return c.redirect("/", 303);
    const failed = c.req.query("failed");
    return c.html(
      <Page title="Log in" section="login" csrf={c.var.csrf} loggedIn={false}>
        <form method="post" action={`/login${qs({ next: c.req.query("next") })}`} class="panel narrow">
          <h1>Log in</h1>
          {failed && <p class="notice bad">Wrong password.</p>}
          <Csrf token={c.var.csrf} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required autofocus />
          <p>
            <button type="submit">Log in</button>
          </p>
        </form>
      </Page>,
    );
  });

  app.post("/login", async (c) => {
    const body = await c.req.parseBody();
    const result = typeof body.password === "string" ? ctx.sec.login(c, body.password) : null;
    const next = c.req.query("next") ?? "/";
    // Only a path on this site: an open redirect would lend the console's name to a phishing link.
    const safeNext = /^\/(?![/\\])/.test(next) ? next : "/";
    if (result === "wait") return c.text("too many wrong passwords: try again in a minute", 429);
    return c.redirect(result ? safeNext : `/login${qs({ failed: 1, next: safeNext })}`, 303);
  });

  app.post("/logout", (c) => {
    ctx.sec.logout(c);
    return c.redirect(ctx.sec.loginRequired ? "/login" : "/", 303);
  });
}
