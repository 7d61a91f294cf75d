import { defineConfig } from "vitest/config";
import { postgresBinDir } from "./test/helpers/pg-global-setup.js";

// Issue 11.6: the end-to-end tests (fixtures through the built binary, asserting through
// test/helpers/cli.ts) run a second time on PostgreSQL, on a private server the project's
// globalSetup starts (and the console's queries, written for either engine). The default project
// is everything, on SQLite, as before. Tests of facts only SQLite has skip there, saying why.
const onBothEngines = [
  "test/core.test.ts",
  "test/matching.test.ts",
  "test/states.test.ts",
  "test/routing.test.ts",
  "test/never-lose.test.ts",
  "test/import.test.ts",
  "test/participants.test.ts",
  "test/reply-text.test.ts",
  "test/scenario-confirmation.test.ts",
  "test/outbound.test.ts",
  "test/issue-commands.test.ts",
  "test/issue-history.test.ts",
  "test/lists.test.ts",
  "test/export.test.ts",
  "test/purge.test.ts",
  "test/bounce.test.ts",
  "test/bounce-sisimai.test.ts",
  "test/auto-generated.test.ts",
  "test/auto-generated-headerless.test.ts",
  "test/serve-lmtp.test.ts",
  "test/web-server.test.ts",
  "test/web-console.test.ts",
  "test/web-queries.test.ts",
  "test/hardening/bad-input.test.ts",
  "test/hardening/flood.test.ts",
  "test/hardening/signed-ids.test.ts",
  "test/security/address-capability.test.ts",
  "test/security/confirmations.test.ts",
  "test/security/replay-output-identity.test.ts",
];

// Without the server binaries (and no server given in INGEST_MAIL_TEST_PG) the postgres project is
// left out, with a message; CI installs Debian's postgresql package (.ci/run), so it always runs there.
const havePostgres = Boolean(process.env.INGEST_MAIL_TEST_PG) || postgresBinDir() !== null;
if (!havePostgres) console.warn("vitest: project postgres skipped: no PostgreSQL server binaries (apt-get install postgresql, or set PG_BIN or INGEST_MAIL_TEST_PG)");

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/helpers/yield-between-tests.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite" } },
      ...(havePostgres
        ? [
            {
              extends: true as const,
              test: {
                name: "postgres",
                include: onBothEngines,
                env: { INGEST_MAIL_TEST_ENGINE: "postgres" },
                globalSetup: ["test/helpers/pg-global-setup.ts"],
              },
            },
          ]
        : []),
    ],
  },
});
