// What every response and every POST of the console goes through (issue 15 §3): a strict CSP, no
// sniffing, no framing; a session cookie (HttpOnly, SameSite=Strict); a CSRF token bound to the
// session on every state change; a login when the console listens beyond loopback; and, on
// loopback, a Host check so a page on another site cannot reach it by DNS rebinding.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { verifyPassword } from "./password.js";

/** The console's own pages: no script at all, styles and images only from itself. */
export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** A mail's HTML body, shown only inside a sandboxed frame: no script, nothing loaded from anywhere. */
export const MAIL_HTML_CSP = ["default-src 'none'", "img-src data:", "style-src 'unsafe-inline'", "frame-ancestors 'self'", "base-uri 'none'", "form-action 'none'", "sandbox"].join("; ");

export const SESSION_COOKIE = "im_session";
const SESSION_HOURS = 12;

export interface Session {
  id: string;
  loggedIn: boolean;
  expires: number;
}

export interface SecurityOptions {
  /** The scrypt hash; null = no login (loopback only: the command refuses anything else). */
  passwordHash: string | null;
  /** Host header values accepted (loopback: the listen address by number and by name). */
  allowedHosts: string[] | null;
  now?: () => number;
}

export type WebEnv = { Variables: { session: Session; csrf: string } };

/** Sessions live in this process only: a restart logs everyone out, nothing is written to disk. */
export class Security {
  private readonly secret = randomBytes(32);
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private failures: number[] = [];

  constructor(readonly opts: SecurityOptions) {
    this.now = opts.now ?? Date.now;
  }

  get loginRequired(): boolean {
    return this.opts.passwordHash !== null;
  }

  csrfToken(session: Session): string {
    return createHmac("sha256", this.secret).update(session.id).digest("base64url");
  }

  checkCsrf(session: Session, token: unknown): boolean {
    if (typeof token !== "string") return false;
    const want = Buffer.from(this.csrfToken(session));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** A fresh session (after a login the old id is dropped: no session fixation). */
  newSession(c: Context, loggedIn: boolean): Session {
    const s: Session = { id: randomBytes(24).toString("base64url"), loggedIn, expires: this.now() + SESSION_HOURS * 3600_000 };
    this.sessions.set(s.id, s);
    setCookie(c, SESSION_COOKIE, s.id, { httpOnly: true, sameSite: "Strict", path: "/", maxAge: SESSION_HOURS * 3600 });
    if (this.sessions.size > 10_000) this.sweep();
    return s;
  }

  session(c: Context): Session | undefined {
    const id = getCookie(c, SESSION_COOKIE);
    const s = id ? this.sessions.get(id) : undefined;
    if (s && s.expires < this.now()) {
      this.sessions.delete(s.id);
      return undefined;
    }
    return s;
  }

  /** A session, null for a wrong password, "wait" after too many wrong ones (each check holds the
   * process ~50 ms in scrypt: a guesser could otherwise both guess fast and stall every page). */
  login(c: Context, password: string): Session | null | "wait" {
    const now = this.now();
    this.failures = this.failures.filter((t) => now - t < 60_000);
    if (this.failures.length >= 5) return "wait";
    if (!this.opts.passwordHash || !verifyPassword(password, this.opts.passwordHash)) {
      this.failures.push(now);
      return null;
    }
    const old = this.session(c);
    if (old) this.sessions.delete(old.id);
    return this.newSession(c, true);
  }

  logout(c: Context): void {
    const s = this.session(c);
    if (s) this.sessions.delete(s.id);
  }

  /** Expired sessions go; if that is not enough (a client that never keeps its cookie), so do the
   * oldest anonymous ones: logged-in sessions are never dropped early. */
  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= 5_000) break;
      if (!s.loggedIn) this.sessions.delete(id);
    }
  }
}

/** Headers on every response, page or file. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  const h = c.res.headers;
  if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", PAGE_CSP);
  if (!h.has("X-Frame-Options")) h.set("X-Frame-Options", "DENY");
  h.set("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on our own forms.
  h.set("Referrer-Policy", "same-origin");
  h.set("Cross-Origin-Opener-Policy", "same-origin");
  h.set("Cross-Origin-Resource-Policy", "same-origin");
  if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
};

const PUBLIC = new Set(["/login", "/style.css"]);

/** Host check, session, login, CSRF. */
export function guard(sec: Security): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (sec.opts.allowedHosts && !sec.opts.allowedHosts.includes((c.req.header("host") ?? "").toLowerCase())) {
      return c.text("unknown Host header: open the console by the address it listens on", 421);
    }
    const session = sec.session(c) ?? sec.newSession(c, false);
    c.set("session", session);
    c.set("csrf", sec.csrfToken(session));
    const path = c.req.path;
    if (sec.loginRequired && !session.loggedIn && !PUBLIC.has(path)) {
      if (c.req.method === "GET") return c.redirect(`/login?next=${encodeURIComponent(c.req.url.slice(new URL(c.req.url).origin.length))}`, 303);
      return c.text("log in first", 401);
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      // Same-origin forms only: a browser names the page's origin on every POST it sends.
      // A sandboxed frame (the mail's HTML) says "null": refused as well.
      const origin = c.req.header("origin");
      if (origin !== undefined && hostOf(origin) !== c.req.header("host")) return c.text("cross-site request refused", 403);
      const body = await c.req.parseBody();
      if (!sec.checkCsrf(session, body._csrf)) return c.text("missing or wrong CSRF token: reload the page and try again", 403);
    }
    await next();
  };
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
