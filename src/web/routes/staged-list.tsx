/** @jsxImportSource hono/jsx */
// Staged mail, newest first (issue 15 §2): status tabs with counts, filters, keyset paging, stuck
// records marked, and the bulk resubmit of what the filter shows.
import { RESUBMITTABLE, STAGED_STATUSES, stagedPage, type StagedFilter, type StagedRow } from "../../store/queries/web-queries.js";
import type { App, WebContext } from "../context.js";
import { Badge, Csrf, Page, bytes, qs, when } from "../layout.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const text = (v: string | undefined, max = 200) => (v ?? "").trim().slice(0, max) || undefined;

/** The filter from the query string; anything malformed is dropped, never passed on. */
export function readFilter(q: (k: string) => string | undefined): StagedFilter {
  const status = q("status");
  const since = q("since");
  const until = q("until");
  return {
    status: status && (STAGED_STATUSES as readonly string[]).includes(status) ? status : undefined,
    sender: text(q("sender")),
    subject: text(q("subject")),
    messageId: text(q("mid"), 998),
    q: text(q("q")),
    since: since && DATE.test(since) ? since : undefined,
    until: until && DATE.test(until) ? until : undefined,
  };
}

export const filterParams = (f: StagedFilter) => ({ status: f.status, sender: f.sender, subject: f.subject, mid: f.messageId, q: f.q, since: f.since, until: f.until });

export function register(app: App, ctx: WebContext): void {
  app.get("/", async (c) => {
    const f = readFilter((k) => c.req.query(k));
    const before = Number(c.req.query("before")) || undefined;
    const started = performance.now();
    const page = await stagedPage(ctx.deps.db, f, { limit: ctx.pageSize, before });
    const { counts, at } = await ctx.counts();
    const ms = performance.now() - started;
    const stuckBefore = new Date(ctx.deps.now().getTime() - ctx.deps.config.recoverAfterMinutes * 60_000).toISOString();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const shownStatuses = STAGED_STATUSES.filter((s) => counts[s] || s === f.status || ["new", "complete", "error", "invalid", "held"].includes(s));
    const more = !!(f.sender || f.subject || f.messageId || f.since || f.until);
    const bulk = f.status ? (RESUBMITTABLE as readonly string[]).includes(f.status) : false;
    return c.html(
      <Page title="Staged mail" section="staged" csrf={c.var.csrf} loggedIn={ctx.sec.loginRequired}>
        <h1>Staged mail</h1>
        <ul class="tabs" aria-label="Status">
          <li>
            <a href={`/${qs({ ...filterParams(f), status: undefined })}`} aria-current={f.status ? undefined : "true"}>
              all<span class="n">{total.toLocaleString("en")}</span>
            </a>
          </li>
          {shownStatuses.map((s) => (
            <li>
              <a href={`/${qs({ ...filterParams(f), status: s })}`} aria-current={f.status === s ? "true" : undefined}>
                <Badge status={s} />
                <span class="n">{(counts[s] ?? 0).toLocaleString("en")}</span>
              </a>
            </li>
          ))}
        </ul>
        <form class="panel" method="get" action="/" role="search">
          {f.status && <input type="hidden" name="status" value={f.status} />}
          <div class="searchbar">
            <div>
              <label for="q">Search subject, sender, Message-ID and text</label>
              <input id="q" name="q" type="search" value={f.q ?? ""} />
            </div>
            <button type="submit">Search</button>
            {(f.q || more) && <a href={`/${qs({ status: f.status })}`}>Clear</a>}
          </div>
          <details class="more" open={more}>
            <summary>More filters</summary>
            <div class="filters">
              <div>
                <label for="sender">Sender</label>
                <input id="sender" name="sender" value={f.sender ?? ""} placeholder="address, or part of it" />
              </div>
              <div>
                <label for="subject">Subject contains</label>
                <input id="subject" name="subject" value={f.subject ?? ""} />
              </div>
              <div>
                <label for="mid">Message-ID</label>
                <input id="mid" name="mid" value={f.messageId ?? ""} />
              </div>
              <div>
                <label for="since">Staged from</label>
                <input id="since" name="since" type="date" value={f.since ?? ""} />
              </div>
              <div>
                <label for="until">Staged until</label>
                <input id="until" name="until" type="date" value={f.until ?? ""} />
              </div>
            </div>
          </details>
        </form>
        {bulk && page.rows.length > 0 && (
          <form class="panel inline-form" method="post" action="/actions/bulk-resubmit">
            <Csrf token={c.var.csrf} />
            {Object.entries(filterParams(f)).map(([k, v]) => (v ? <input type="hidden" name={k} value={v} /> : null))}
            <div>
              <strong>Bulk resubmit</strong>
              <div class="muted">Every {f.status} mail matching this filter goes back to new and is processed again (at most 1,000 per request).</div>
            </div>
            <button type="submit">Resubmit all matching</button>
          </form>
        )}
        {page.rows.length === 0 ? (
          <p class="panel">{page.scannedDownTo ? "Nothing found yet in the newest mail." : "No staged mail matches."}</p>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Staged (UTC)</th>
                <th scope="col">Status</th>
                <th scope="col">From</th>
                <th scope="col">Subject</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((r) => (
                <Row r={r} stuck={["new", "in_process", "workflow"].includes(r.status) && r.updatedAt < stuckBefore} />
              ))}
            </tbody>
          </table>
        )}
        <div class="pager">
          {before && <a href={`/${qs(filterParams(f))}`}>« Newest</a>}
          {page.before && (
            <a href={`/${qs({ ...filterParams(f), before: page.before })}`} rel="next">
              {page.scannedDownTo ? `Search older mail (below id ${page.scannedDownTo}) »` : "Older »"}
            </a>
          )}
          <span class="muted">
            {page.scannedDownTo ? "The search stopped at its time budget; it continues from here. " : ""}
            {`${ms.toFixed(0)} ms · counts as of ${when(at.toISOString()).slice(11)} UTC`}
          </span>
        </div>
      </Page>,
    );
  });
}

function Row(p: { r: StagedRow; stuck: boolean }) {
  const r = p.r;
  const note = r.error ?? r.reason ?? (r.duplicateOf ? `duplicate of ${r.duplicateOf}` : "");
  return (
    <tr>
      <td class="num" data-label="ID">
        <a href={`/staged/${r.id}`}>{r.id}</a>
      </td>
      <td class="num" data-label="Staged">
        {when(r.receivedAt)}
      </td>
      <td data-label="Status">
        <Badge status={r.status} /> {p.stuck && <Badge status="stuck" label="stuck" />}
      </td>
      <td class="from" data-label="From">
        {r.fromName ? (
          <>
            {r.fromName} <span class="muted addr">&lt;{r.fromAddress ?? ""}&gt;</span>
          </>
        ) : (
          (r.fromAddress ?? "")
        )}
      </td>
      <td class="subject" data-label="Subject">
        <a href={`/staged/${r.id}`}>{r.subject ? r.subject : "(no subject)"}</a> <span class="muted">{bytes(r.rawSize)}</span>
      </td>
      <td data-label="Note">{note.slice(0, 120)}</td>
    </tr>
  );
}
