#!/usr/bin/env node
// Thin launcher for the bundled CLI (npm run build makes it): one file to load keeps the MTA's
// one-process-per-message start cheap. The entry owns argument parsing and exit codes.
import "../dist/bundle/ingest-mail.cjs";
