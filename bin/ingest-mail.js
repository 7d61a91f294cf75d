#!/usr/bin/env node
// Thin launcher for the bundled CLI (`npm run build` makes it). CommonJS on purpose (bin/package.json):
// one CJS file to load keeps the MTA's one-process-per-message start cheap, where an ES module
// entry costs the ESM loader's start-up on every message. The entry owns arguments and exit codes.
require("../dist/bundle/ingest-mail.cjs");
