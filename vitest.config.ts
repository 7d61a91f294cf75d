import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";
import { postgresUnavailable } from "./test/helpers/postgres.js";

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
  "test/security/local-folders.test.ts",
];

// Files that change the machine (apt-get, /etc/postfix, Dovecot, system users; INGEST_MAIL_E2E=1):
// one at a time, after everything else, so that no two of them meet in dpkg's lock or in Postfix's
// configuration. Everything else runs at least two files at a time (below).
const oneAtATime = ["test/e2e/**/*.test.ts", "test/systemd-units.test.ts"];

// Where no server can be started (no PostgreSQL binaries, no server given in INGEST_MAIL_TEST_PG)
// the postgres project is left out, saying why; CI installs Debian's postgresql package (.ci/run).
const noPostgres = postgresUnavailable();
if (noPostgres) console.warn(`vitest: project postgres skipped: ${noPostgres}`);

export default defineConfig({
  test: {
    setupFiles: ["test/helpers/yield-between-tests.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // At least two test files at a time. vitest's default is CPUs - 1, one on this 2-core machine, and
    // most files wait more than they compute (child processes, servers, fsync): the suite took 15
    // minutes one file at a time, 10 two at a time. A project's files take turns with the other
    // projects' of its group.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      // Each project names its own files: with `extends`, an include here would be added to both.
      { extends: true, test: { name: "sqlite", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...oneAtATime] } },
      ...(!noPostgres
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
      // vitest refuses two worker counts in one group: this one runs as a group of its own, last.
      // vitest 3.2 keeps one fork pool for the whole run, sized by the root maxWorkers (2 here): a
      // project's own maxWorkers only passes that check. singleFork is what runs these files one
      // after another, in one fork; test/helpers/one-at-a-time.ts fails a file that starts while
      // another one runs.
      {
        extends: true,
        test: {
          name: "machine",
          include: oneAtATime,
          maxWorkers: 1,
          poolOptions: { forks: { singleFork: true } },
          setupFiles: ["test/helpers/one-at-a-time.ts"],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
