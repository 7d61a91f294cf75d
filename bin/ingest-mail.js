#!/usr/bin/env node
// Thin launcher: the compiled entry owns argument parsing and exit codes.
import "../dist/src/cli/main.js";
