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
  /** Its properties, ptype.property → value, lower-case (smtp.mailfrom, header.d, header.i). */
  props: Record<string, string>;
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
    if (!m) continue;
    const props: Record<string, string> = {};
    // RFC 8601 §2.2 propspec: ptype "." property "=" value, space-separated after the result.
    for (const word of p.slice(m[0].length).trim().split(/\s+/)) {
      const eq = word.indexOf("=");
      if (eq > 0 && word.lastIndexOf(".", eq) > 0) props[word.slice(0, eq).toLowerCase()] = word.slice(eq + 1).toLowerCase();
    }
    results.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase(), props });
  }
  return { authservId, results };
}

/**
 * The verdict of our own MTA, or null when there is none to go by (no trusted id configured, or no
 * header from it): then the mail is treated as before, neither trusted more nor less.
 */
export function authVerdict(headerValues: string[], trustedAuthservId: string | null, writer: Writer | null = null): AuthVerdict | null {
  if (!trustedAuthservId) return null;
  const want = trustedAuthservId.trim().toLowerCase();
  for (const v of headerValues) {
    const ar = parseAuthenticationResults(v);
    if (ar.authservId !== want) continue;
    if (writer && !writer.inFrom) return writerVerdict(ar.results, writer.address, want);
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

/** Who the mail is taken to be from (the identified address) and whether the From header names it. */
export interface Writer {
  address: string;
  inFrom: boolean;
}

/**
 * A writer taken from Reply-To or Sender because From names no mailbox (`undisclosed-recipients:;`,
 * a bare name): DMARC judges the From domain only, so its result says nothing of this address, and
 * an SPF or DKIM pass of any other domain (the sender's own) says nothing either. Only a pass for
 * the writer's own domain (or its parent or a subdomain: relaxed alignment, RFC 7489 §3.1) counts.
 */
function writerVerdict(results: AuthResult[], address: string, id: string): AuthVerdict {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase().replace(/\.$/, "");
  const aligned = (d: string | undefined) => {
    const x = (d ?? "").replace(/^.*@/, "").replace(/\.$/, "");
    return x.includes(".") && domain.includes(".") && (x === domain || x.endsWith(`.${domain}`) || domain.endsWith(`.${x}`));
  };
  const spf = results.find((r) => r.method === "spf" && r.result === "pass" && aligned(r.props["smtp.mailfrom"]));
  const dkim = results.find((r) => r.method === "dkim" && r.result === "pass" && aligned(r.props["header.d"] ?? r.props["header.i"]));
  if (spf || dkim) return { authenticated: true, reason: `${id}: From names no mailbox; ${spf ? "spf" : "dkim"}=pass for ${domain}, the Reply-To/Sender writer's domain` };
  return { authenticated: false, reason: `${id}: From names no mailbox and the writer ${address} comes from Reply-To/Sender; neither SPF nor DKIM passed for ${domain}` };
}
