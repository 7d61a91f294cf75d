// A test file's PostgreSQL server, or a skipped test saying why there is none (issue 11.7): the
// run's shared server when pg-global-setup.ts started one, else one of the file's own.
import { afterAll, beforeAll, describe, it } from "vitest";
import { postgresUnavailable, testServer, type TestServer } from "./postgres.js";

/** Null (a skipped `NAME: postgres` test registered) without PostgreSQL; else the server, once beforeAll ran. */
export function postgresForSuite(name: string): { server: () => TestServer } | null {
  const unavailable = postgresUnavailable();
  if (unavailable) {
    describe(`${name}: postgres`, () => it.skip(`skipped: ${unavailable}`, () => {}));
    return null;
  }
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await testServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return { server: () => server! };
}
