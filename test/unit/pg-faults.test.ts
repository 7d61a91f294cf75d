// PostgreSQL faults mapped to the one storage-fault type (store/postgres/faults.ts), and the
// database's location without its password.
import { describe, expect, it } from "vitest";
import { StorageFault } from "../../src/errors.js";
import { mapFault, UniqueViolation } from "../../src/store/postgres/faults.js";
import { withoutPassword } from "../../src/store/postgres/engine.js";

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
const at = "postgresql://ingest@db.example/ingest";

describe("mapFault", () => {
  it.each([
    ["40001", "could not serialize access"],
    ["40P01", "deadlock detected"],
    ["55P03", "canceling statement due to lock timeout"],
    ["57014", "canceling statement due to statement timeout"],
    ["57P01", "terminating connection due to administrator command"],
    ["57P02", "crash shutdown"],
    ["57P03", "the database system is starting up"],
    ["53300", "sorry, too many clients already"],
    ["53100", "could not extend file: No space left on device"],
    ["08006", "connection failure"],
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"],
    ["ECONNRESET", "read ECONNRESET"],
    ["ETIMEDOUT", "connect ETIMEDOUT"],
    ["ENOENT", "connect ENOENT /var/run/postgresql/.s.PGSQL.5432"],
    ["EPIPE", "write EPIPE"],
    // A host that does not resolve (it was 70 with the bare resolver message).
    ["ENOTFOUND", "getaddrinfo ENOTFOUND no.such.host.invalid"],
    ["26000", 'prepared statement "im_0123" does not exist'],
    ["42P05", 'prepared statement "im_0123" already exists'],
  ])("%s is a storage fault", (code, message) => {
    const f = mapFault(err(message, code), at) as StorageFault;
    expect(f).toBeInstanceOf(StorageFault);
    expect(f.code).toBe(code);
    expect(f.exitCode).toBe(75);
    expect(f.message).toContain(at);
    expect(f.message).toContain(message);
    // A lost race, or a named statement a pooler lost (run again, unnamed: engine.ts).
    expect(f.retry).toBe(["40001", "40P01", "26000", "42P05"].includes(code));
  });

  it.each(["Connection terminated unexpectedly", "Connection terminated due to connection timeout", "timeout exceeded when trying to connect", "Query read timeout"])(
    "node-postgres's %j is a storage fault",
    (message) => expect(mapFault(err(message), at)).toBeInstanceOf(StorageFault),
  );

  it("a dual-stack connect's AggregateError is one by its first error's code", () => {
    const e = new AggregateError([err("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], "");
    expect(mapFault(e, at)).toBeInstanceOf(StorageFault);
  });

  it("a unique violation is its own class, not a fault", () => {
    const e = Object.assign(err('duplicate key value violates unique constraint "staged_mails_dedup_key_unique"', "23505"), { constraint: "staged_mails_dedup_key_unique" });
    const m = mapFault(e, at) as UniqueViolation;
    expect(m).toBeInstanceOf(UniqueViolation);
    expect(m).not.toBeInstanceOf(StorageFault);
    expect(m.constraint).toBe("staged_mails_dedup_key_unique");
  });

  it.each([
    ["42601", "syntax error"],
    ["42P01", "relation does not exist"],
    ["23502", "null value violates not-null constraint"],
    [undefined, "something else"],
  ])("%s is rethrown as it is", (code, message) => {
    const e = err(message, code);
    expect(mapFault(e, at)).toBe(e);
  });
});

describe("withoutPassword", () => {
  it.each([
    ["postgresql://ingest:s3cret@db.example:5432/ingest", "postgresql://ingest@db.example:5432/ingest"],
    ["postgres://u:p%40ss@h/db?sslmode=require", "postgres://u@h/db?sslmode=require"],
    ["postgresql://h/db?user=u&password=s3cret&sslmode=disable", "postgresql://h/db?user=u&sslmode=disable"],
    ["postgresql:///ingest?host=/var/run/postgresql", "postgresql:///ingest?host=/var/run/postgresql"],
    ["postgresql://u@h/db", "postgresql://u@h/db"],
  ])("%s", (url, want) => {
    expect(withoutPassword(url)).toBe(want);
    expect(withoutPassword(url)).not.toContain("s3cret");
  });
});
