// Issue 10 (domain.md §9): is the From forged? Our own MTA writes its verdicts into an
// Authentication-Results header (RFC 8601) under its authserv-id (config trustedAuthservId). Only
// that id counts: a header with any other id may have been written by anyone (RFC 8601 §5), and
// only the topmost one with our id, since our MTA prepends its own above whatever the mail brought.
// Parsing is one linear scan per header (comments, quoted strings, `;` separators).

export interface AuthVerdict {
  /** false: DMARC fail, or without a DMARC result, SPF fail/softfail and no DKIM pass. */
  authenticated: boolean;
  reason: string;
}

export interface AuthResult {
  method: string;
  result: string;
}

/** The authserv-id and the method=result pairs of one Authentication-Results value. */
export function parseAuthenticationResults(value: string): { authservId: string; results: AuthResult[] } {
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
      continue; // quoted text (reason="...") is never a method or a result
    }
    if (depth > 0) {
      if (c === "\\") i++;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
      continue;
    }
    if (c === "(") depth++;
    else if (c === '"') quoted = true;
    else if (c === ";") {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  const authservId = (parts[0].trim().split(/\s+/)[0] ?? "").toLowerCase();
  const results: AuthResult[] = [];
  for (const p of parts.slice(1)) {
    const m = /^\s*([A-Za-z0-9_-]+)(?:\s*\/\s*\d+)?\s*=\s*([A-Za-z]+)/.exec(p);
    if (m) results.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase() });
  }
  return { authservId, results };
}

/**
 * The verdict of our own MTA, or null when there is none to go by (no trusted id configured, or no
 * header from it): then the mail is treated as before, neither trusted more nor less.
 */
export function authVerdict(headerValues: string[], trustedAuthservId: string | null): AuthVerdict | null {
  if (!trustedAuthservId) return null;
  const want = trustedAuthservId.trim().toLowerCase();
  for (const v of headerValues) {
    const ar = parseAuthenticationResults(v);
    if (ar.authservId !== want) continue;
    const of = (method: string) => ar.results.filter((r) => r.method === method).map((r) => r.result);
    const dmarc = of("dmarc");
    if (dmarc.includes("fail")) return { authenticated: false, reason: `${want}: dmarc=fail` };
    if (dmarc.includes("pass")) return { authenticated: true, reason: `${want}: dmarc=pass` };
    const spf = of("spf");
    const dkim = of("dkim");
    const spfFails = spf.some((r) => r === "fail" || r === "softfail");
    if (spfFails && !dkim.includes("pass")) return { authenticated: false, reason: `${want}: no DMARC result, spf=${spf.join(",")} and dkim=${dkim.join(",") || "none"}` };
    return { authenticated: true, reason: `${want}: ${ar.results.map((r) => `${r.method}=${r.result}`).join(" ") || "none"}` };
  }
  return null;
}
