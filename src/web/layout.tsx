/** @jsxImportSource hono/jsx */
// The page frame and the small pieces every page shares. hono/jsx escapes every text and attribute
// value it renders; nothing here uses raw HTML, so nothing from a mail can become markup.
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

export type Section = "staged" | "issues" | "outbox" | "login";

export interface PageProps {
  title: string;
  section: Section;
  csrf: string;
  loggedIn: boolean;
  children?: Child;
}

export function Page(p: PageProps) {
  const nav: [Section, string, string][] = [
    ["staged", "/", "Staged mail"],
    ["issues", "/issues", "Issues"],
    ["outbox", "/outbox", "Outbox"],
  ];
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${p.title} · ingest-mail`}</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="in">
            <a class="brand" href="/">
              ingest-mail
            </a>
            {p.section !== "login" && (
              <nav aria-label="Sections">
                {nav.map(([s, href, label]) => (
                  <a href={href} aria-current={p.section === s ? "page" : undefined}>
                    {label}
                  </a>
                ))}
              </nav>
            )}
            {p.loggedIn && (
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={p.csrf} />
                <button class="secondary" type="submit">
                  Log out
                </button>
              </form>
            )}
          </div>
        </header>
        <main id="main">{p.children}</main>
      </body>
      </html>
    </>
  );
}

export const Csrf = (p: { token: string }) => <input type="hidden" name="_csrf" value={p.token} />;

/** A status in the CLI's colours (class names are fixed words, never mail text). */
export function Badge(p: { status: string; label?: string }) {
  const cls = /^[a-z_]+$/.test(p.status) ? p.status : "other";
  return <span class={`badge ${cls}`}>{p.label ?? p.status.replace("_", " ")}</span>;
}

/** 2026-12-06T00:47:14.123Z → 2026-12-06 00:47:14 (UTC, as the CLI prints). */
export const when = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) : "");

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A query string of the non-empty values (for filter and pager links). */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

export function IssueLink(p: { issue: { id: number; reference: string | null; state?: string; subject?: string | null } }) {
  return (
    <span>
      <a href={`/issues/${p.issue.id}`}>{p.issue.reference ?? `issue ${p.issue.id}`}</a>
      {p.issue.state && (
        <>
          {" "}
          <Badge status={p.issue.state} />
        </>
      )}
      {p.issue.subject ? <span class="muted"> {p.issue.subject}</span> : null}
    </span>
  );
}
