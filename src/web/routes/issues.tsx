/** @jsxImportSource hono/jsx */
// Issues (issue 15 §2): the list with filters by state, kind, queue and assignee; one issue with its
// whole conversation in order, every link in both directions and the mail sent for it.
import { getIssue } from "../../store/queries/queries.js";
import { ISSUE_KINDS, ISSUE_STATES } from "../../domain/issues.js";
import { conversation, identificationView, issueLinks, issuesPage, outboundOfIssue, type IssueFilter, type IssueRef } from "../../store/queries/web-queries.js";
import type { App, WebContext } from "../context.js";
import { Badge, IssueLink, Page, qs, when } from "../layout.js";
import { splitAction } from "../quote.js";

const STATES: string[] = [...ISSUE_STATES];
const KINDS: string[] = [...ISSUE_KINDS];

export function register(app: App, ctx: WebContext): void {
  app.get("/issues", async (c) => {
    const q = (k: string) => c.req.query(k)?.trim().slice(0, 200) || undefined;
    const f: IssueFilter = {
      state: STATES.includes(q("state") ?? "") ? q("state") : undefined,
      kind: KINDS.includes(q("kind") ?? "") ? q("kind") : undefined,
      queue: q("queue"),
      assignee: q("assignee"),
      customer: Number(q("customer")) || undefined,
    };
    const before = Number(c.req.query("before")) || undefined;
    const db = ctx.deps.db;
    const page = await issuesPage(db, f, { limit: ctx.pageSize, before });
    // The queues and assignees the configuration names (a DISTINCT over every issue would read them all).
    const cfg = ctx.deps.config;
    const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
    const facets = {
      queues: uniq([cfg.defaultRoute.queue, ...cfg.routes.map((r) => r.queue), ...cfg.assignment.map((a) => a.queue)]),
      assignees: uniq(cfg.assignment.map((a) => a.assignee)),
    };
    const customer = f.customer ? await identificationView(db, f.customer) : undefined;
    const params = { state: f.state, kind: f.kind, queue: f.queue, assignee: f.assignee, customer: f.customer };
    const select = (name: string, label: string, values: string[], value?: string) => (
      <div>
        <label for={name}>{label}</label>
        <select id={name} name={name}>
          <option value="">any</option>
          {values.map((v) => (
            <option value={v} selected={v === value}>
              {v.replace("_", " ")}
            </option>
          ))}
        </select>
      </div>
    );
    // Free text with the configured values offered: issues can carry others (set by hand, older config).
    const typed = (name: string, label: string, values: string[], value?: string) => (
      <div>
        <label for={name}>{label}</label>
        <input id={name} name={name} value={value ?? ""} list={`${name}-known`} placeholder="any" />
        <datalist id={`${name}-known`}>
          {values.map((v) => (
            <option value={v} />
          ))}
        </datalist>
      </div>
    );
    return c.html(
      <Page title="Issues" section="issues" csrf={c.var.csrf} loggedIn={ctx.sec.loginRequired}>
        <h1>Issues</h1>
        {customer && (
          <div class="panel">
            <strong>Customer (identification {customer.id}):</strong> {[customer.firstNames, customer.lastName].filter(Boolean).join(" ") || "(no name)"} &lt;{customer.userEmail ?? customer.email ?? ""}&gt;
            {customer.userId ? ` · registered user ${customer.userId}` : " · not registered"}
            {customer.accountName ? ` · account ${customer.accountName} (${customer.supportLevel})` : ""} · since {when(customer.dateAdded)}
          </div>
        )}
        <form class="filters panel" method="get" action="/issues" aria-label="Filter issues">
          {f.customer && <input type="hidden" name="customer" value={String(f.customer)} />}
          {select("state", "State", STATES, f.state)}
          {select("kind", "Kind", KINDS, f.kind)}
          {typed("queue", "Queue", facets.queues, f.queue)}
          {typed("assignee", "Assignee", facets.assignees, f.assignee)}
          <div>
            <button type="submit">Filter</button> <a href="/issues">Clear</a>
          </div>
        </form>
        {page.rows.length === 0 ? (
          <p class="panel">No issues match.</p>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Reference</th>
                <th scope="col">State</th>
                <th scope="col">Kind</th>
                <th scope="col">Subject</th>
                <th scope="col">Customer</th>
                <th scope="col">Queue / assignee</th>
                <th scope="col">Updated (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((i) => (
                <tr>
                  <td class="num" data-label="Reference">
                    <a href={`/issues/${i.id}`}>{i.reference ?? i.id}</a>
                  </td>
                  <td data-label="State">
                    <Badge status={i.state} />
                    {i.waitType ? <span class="muted"> {i.waitType}</span> : null}
                    {i.newInfo ? <span class="badge">new info</span> : null}
                  </td>
                  <td data-label="Kind">{i.kind}</td>
                  <td class="subject" data-label="Subject">
                    <a href={`/issues/${i.id}`}>{i.subject ? i.subject : "(no subject)"}</a>
                  </td>
                  <td data-label="Customer">{i.customerEmail ?? ""}</td>
                  <td data-label="Queue">{[i.queue, i.assignee].filter(Boolean).join(" / ")}</td>
                  <td class="num" data-label="Updated">
                    {when(i.updatedAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="pager">
          {before && <a href={`/issues${qs(params)}`}>« Newest</a>}
          {page.before && (
            <a href={`/issues${qs({ ...params, before: page.before })}`} rel="next">
              Older »
            </a>
          )}
        </div>
      </Page>,
    );
  });

  app.get("/issues/:id{[0-9]+}", async (c) => {
    const db = ctx.deps.db;
    const issue = await getIssue(db, Number(c.req.param("id")));
    if (!issue) return c.notFound();
    const links = await issueLinks(db, issue);
    const talk = await conversation(db, issue.id);
    const sent = await outboundOfIssue(db, issue.id);
    const customer = await identificationView(db, issue.userIdentificationId);
    const one = (label: string, r: IssueRef | null) => (r ? [<dt>{label}</dt>, <dd><IssueLink issue={r} /></dd>] : null);
    const many = (label: string, rs: IssueRef[]) => (rs.length ? [<dt>{label}</dt>, <dd>{rs.map((r) => <div><IssueLink issue={r} /></div>)}</dd>] : null);
    return c.html(
      <Page title={issue.reference ?? `Issue ${issue.id}`} section="issues" csrf={c.var.csrf} loggedIn={ctx.sec.loginRequired}>
        <p class="muted">
          <a href="/issues">Issues</a> › {issue.reference}
        </p>
        <h1>
          {`${issue.reference ?? issue.id} `}
          {issue.subject ?? "(no subject)"} <Badge status={issue.state} />
        </h1>
        <div class="grid2">
          <section class="panel" aria-labelledby="h-issue">
            <h2 id="h-issue">Issue</h2>
            <dl class="kv">
              <dt>Kind</dt>
              <dd>{issue.kind}</dd>
              <dt>State</dt>
              <dd>
                {issue.state}
                {issue.waitType ? ` (${issue.waitType})` : ""}
                {issue.newInfo ? " · new info" : ""}
              </dd>
              <dt>Customer</dt>
              <dd>
                <a href={`/issues?customer=${issue.userIdentificationId}`}>
                  {customer ? `${[customer.firstNames, customer.lastName].filter(Boolean).join(" ") || "(no name)"} <${customer.userEmail ?? customer.email ?? ""}>` : issue.userIdentificationId}
                </a>
              </dd>
              {issue.queue && [<dt>Queue</dt>, <dd>{issue.queue}</dd>]}
              {issue.assignee && [<dt>Assignee</dt>, <dd>{issue.assignee}</dd>]}
              {issue.recipient && [<dt>Came in on</dt>, <dd>{issue.recipient}</dd>]}
              <dt>Opened</dt>
              <dd>{when(issue.openDate)} UTC</dd>
              <dt>Updated</dt>
              <dd>{when(issue.updatedAt)} UTC</dd>
              {issue.closedDate && [<dt>Closed</dt>, <dd>{when(issue.closedDate)} UTC</dd>]}
            </dl>
          </section>
          <section class="panel" aria-labelledby="h-links">
            <h2 id="h-links">Links</h2>
            <dl class="kv">
              {one("Parent", links.parent)}
              {many("Children", links.children)}
              {one("Split from", links.splitFrom)}
              {many("Split into", links.splitInto)}
              {one("Merged into", links.mergedInto)}
              {many("Merged from", links.mergedFrom)}
              {one("Converted to", links.convertedTo)}
              {many("Converted from", links.convertedFrom)}
              {one("Follows closed", links.follows)}
              {many("Followed by", links.followedBy)}
            </dl>
            {Object.values(links).every((v) => !v || (Array.isArray(v) && !v.length)) && <p class="muted">None.</p>}
          </section>
        </div>
        <h2>{`Conversation (${talk.length})`}</h2>
        {talk.length === 0 && <p class="panel muted">No mail on this issue yet.</p>}
        {talk.map((a) => {
          const text = splitAction(a.details, a.replyText);
          const name = [a.senderFirstNames, a.senderLastName].filter(Boolean).join(" ") || a.fromName;
          return (
            <article class="msg" id={`action-${a.actionId}`}>
              <header>
                <span class="who">{name ? `${name} <${a.senderEmail ?? a.fromAddress ?? ""}>` : (a.senderEmail ?? a.fromAddress ?? `identification ${a.userIdentificationId}`)}</span>
                <span class="muted">{when(a.createdAt)} UTC</span>
                {a.issueId !== issue.id && <span class="badge">{`on ${a.issueReference ?? a.issueId}, merged here`}</span>}
                {a.stagedMailId && <a href={`/staged/${a.stagedMailId}`}>{`staged mail ${a.stagedMailId}`}</a>}
                <span class="muted">{`action ${a.actionId}`}</span>
              </header>
              <div class="body">
                {a.subject && <p><strong>{a.subject}</strong></p>}
                <pre>{text.fresh}</pre>
                {text.quoted && (
                  <details class="quoted">
                    <summary>{text.whole ? "Whole mail" : "Quoted earlier mail"}</summary>
                    <pre>{text.quoted}</pre>
                  </details>
                )}
              </div>
            </article>
          );
        })}
        <h2>Mail sent for it</h2>
        {sent.length ? (
          <table class="list">
            <tbody>
              {sent.map((o) => (
                <tr>
                  <td class="num">{when(o.createdAt)}</td>
                  <td>{o.kind}</td>
                  <td>
                    <Badge status={o.status} />
                  </td>
                  <td>{o.toAddress}</td>
                  <td class="subject">{o.subject}</td>
                  <td>{o.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="panel muted">None.</p>
        )}
      </Page>,
    );
  });
}
