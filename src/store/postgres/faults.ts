// PostgreSQL's transient faults, mapped to the one storage-fault type (issue 11.3): the pipeline
// never sees an SQLSTATE or a socket error code. What is "transient" here is what a later retry by
// the MTA can get past: a lost or refused connection, a server going down or starting, no free
// connection slot, a lock or statement timeout, a deadlock or serialization failure, a full disk.
import { ConfigError, NotFoundError, StorageFault } from "../../errors.js";

/**
 * A unique key already holds this value (SQLSTATE 23505). Not a fault in our design: queries that
 * expect duplicates say `ON CONFLICT DO NOTHING`; this one is thrown only where a query did not,
 * so a caller can still tell "duplicate" from a fault.
 */
export class UniqueViolation extends Error {
  readonly code = "23505";
  constructor(
    message: string,
    /** The constraint or unique index, e.g. staged_mails_dedup_key_unique. */
    readonly constraint: string | undefined,
  ) {
    super(message);
    this.name = "UniqueViolation";
  }
}

/** SQLSTATE → what went wrong, for the codes that are faults rather than bugs. */
const SQLSTATE: Record<string, string> = {
  "40001": "serialization failure",
  "40P01": "deadlock detected",
  "55P03": "lock not available (lock_timeout)",
  "57014": "statement cancelled (statement_timeout)",
  "57P01": "server shutting down (admin shutdown)",
  "57P02": "server crashed (crash shutdown)",
  "57P03": "server not accepting connections yet",
  "58030": "I/O error on the server",
  // Our named statements (engine.ts) behind a pooler that moves us between server connections.
  "26000": "prepared statement missing on this server connection (a pooler in transaction mode?)",
  "42P05": "prepared statement already on this server connection (a pooler in transaction mode?)",
};
/** The transaction lost a race with another (or a named statement, engine.ts): running it again is the remedy (the caller may). */
const LOST_RACE = new Set(["40001", "40P01", "26000", "42P05"]);
/** Whole classes: 08 connection exception, 53 insufficient resources (disk full, memory, slots). */
const CLASSES: Record<string, string> = { "08": "connection failure", "53": "insufficient resources on the server" };

/** Socket errors from node (connect, read, write) and from DNS. */
const SOCKET: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EAI_AGAIN: "host name lookup failed (temporary)",
  // Transient too: a resolver that is down answers so as well as a mistyped host does, and the mail must wait (75), not bounce.
  ENOTFOUND: "host name not found (mistyped in the URL, or DNS not answering)",
  ENOENT: "no server socket", // a unix-socket path that does not exist: the server is not running
};

/** node-postgres's own messages for a connection it lost or could not get (no code on them). */
const MESSAGES: [RegExp, string][] = [
  [/^Connection terminated/i, "connection terminated"],
  [/timeout exceeded when trying to connect/i, "timeout acquiring a connection"],
  [/Client has encountered a connection error and is not queryable/i, "connection lost"],
  [/Query read timeout/i, "no answer from the server (query_timeout)"],
  [/Client was closed and is not queryable/i, "connection closed"],
];

/**
 * The error to throw for a driver error: a StorageFault for a transient fault (its message names
 * the cause and the database, never the password), UniqueViolation for 23505, NotFoundError or
 * ConfigError for a database that does not exist or a refused login, else the error itself.
 */
export function mapFault(e: unknown, location: string): unknown {
  if (!(e instanceof Error) || e instanceof StorageFault) return e;
  const code = errorCode(e);
  if (code === "23505") return new UniqueViolation(e.message, (e as { constraint?: string }).constraint);
  // Connecting, not transient: no such database (66, as for a SQLite path that holds none: nothing
  // creates one), or the login refused, class 28 (configuration, 78). On the MTA path both are
  // still "could not store" (75, cli/main.ts).
  if (code === "3D000") return new NotFoundError(`PostgreSQL database ${location}: ${e.message} (create it first, e.g. with createdb)`);
  if (code?.startsWith("28")) return new ConfigError(`PostgreSQL database ${location}: login refused: ${e.message}`);
  // No SQLSTATE class begins with E, so the socket codes cannot be mistaken for one.
  const why =
    code !== undefined ? (SQLSTATE[code] ?? CLASSES[code.slice(0, 2)] ?? SOCKET[code]) : MESSAGES.find(([re]) => re.test(e.message))?.[1];
  if (why === undefined) return e;
  const fault = new StorageFault(`PostgreSQL database ${location}: ${why}: ${e.message || code}`, code ?? "ECONNECTION", code !== undefined && LOST_RACE.has(code));
  (fault as { cause?: unknown }).cause = e;
  return fault;
}

/** SQLSTATE (server errors) or errno code (sockets; Node 20's AggregateError of a dual-stack connect). */
function errorCode(e: Error): string | undefined {
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const first = (e as { errors?: unknown[] }).errors?.[0] as { code?: unknown } | undefined;
  return typeof first?.code === "string" ? first.code : undefined;
}
