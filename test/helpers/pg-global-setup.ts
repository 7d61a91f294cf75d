// vitest globalSetup (issue 11.7): one private PostgreSQL server for the whole run, when the server
// binaries are here. Its base URL (the maintenance database, superuser, trust authentication) goes
// to the tests as INGEST_MAIL_TEST_PG; each test file makes its own database from it
// (test/helpers/postgres.ts: createDatabase, testServer). Without the binaries nothing is set and
// the PostgreSQL tests skip, saying why. A URL already in INGEST_MAIL_TEST_PG (a server of your own)
// is used as it is, and nothing is started.
import { PG_ENV, PG_SOCKET_ENV, postgresUnavailable, startPostgres, type PostgresServer } from "./postgres.js";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[PG_ENV]) return undefined;
  const why = postgresUnavailable();
  if (why) {
    console.warn(`PostgreSQL tests skip: ${why}`);
    return undefined;
  }
  // An interrupted run leaves its server behind: the next startPostgres() stops it (reapStale).
  const server: PostgresServer = await startPostgres();
  process.env[PG_ENV] = server.url;
  process.env[PG_SOCKET_ENV] = `${server.socketDir}:${server.port}`;
  return async () => {
    delete process.env[PG_ENV];
    delete process.env[PG_SOCKET_ENV];
    await server.stop();
  };
}
