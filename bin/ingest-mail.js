#!/usr/bin/env node
// Thin launcher for the bundled CLI (`npm run build` makes it). CommonJS on purpose (bin/package.json):
// one CJS file to load keeps the MTA's one-process-per-message start cheap, where an ES module
// entry costs the ESM loader's start-up on every message. The entry owns arguments and exit codes.
//
// It loads the bundle as require() would, but compiled with V8's code cache when one from the same
// bundle is at hand (dist/bundle/ingest-mail.cjs.cache, made by scripts/code-cache.mjs at build
// time): V8 then skips parsing and compiling what a plain ingest runs, ~20 ms of every start
// (issue 5). No cache, an unreadable one, one from another build or another Node version (V8 rejects
// it): compiled as usual, silently. "Another build" is told by the build id on the bundle's first
// line (its content hash, written by scripts/bundle.mjs), which the cache starts with: V8 itself
// only compares the length, and hashing the bundle here cost ~1 ms and OpenSSL's start-up on every
// start (cold-start bench). A bundle edited by hand keeps its id: rebuild, or delete the .cache.
// INGEST_MAIL_CODE_CACHE=off ignores the cache, =write writes a fresh one on exit (the build does),
// =check says on stderr whether it was used.
"use strict";
const { readFileSync, renameSync, writeFileSync } = require("node:fs");
const { join, dirname } = require("node:path");

const bundle = join(__dirname, "..", "dist", "bundle", "ingest-mail.cjs");
const mode = process.env.INGEST_MAIL_CODE_CACHE;

/**
 * A CommonJS file compiled (with its code cache FILE.cache when it fits), or null to load it with
 * plain require(). The bundle uses the same loader for its own lazily loaded bundles (html-to-text).
 */
function compile(file) {
  try {
    const vm = require("node:vm");
    const Module = module.constructor;
    const cacheFile = `${file}.cache`;
    const bytes = readFileSync(file);
    const key = buildId(bytes);
    let cachedData;
    if (mode !== "off" && key) {
      try {
        const c = readFileSync(cacheFile);
        if (c.subarray(0, key.length).equals(key)) cachedData = c.subarray(key.length);
      } catch {}
    }
    // Module.wrap: the same function require() makes of a CommonJS file (exports, require, module,
    // __filename, __dirname), so the bundle, its stack traces and its require() calls see what
    // they saw before.
    const script = new vm.Script(Module.wrap(bytes.toString("utf8")), { filename: file, cachedData });
    if (mode === "check") process.stderr.write(`code cache${file === bundle ? "" : ` (${require("node:path").basename(file)})`}: ${!cachedData ? "none" : script.cachedDataRejected ? "rejected" : "used"}\n`);
    if (mode === "write" && key) {
      process.on("exit", () => {
        try {
          const tmp = `${cacheFile}.${process.pid}.tmp`;
          writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]));
          renameSync(tmp, cacheFile);
        } catch (e) {
          process.stderr.write(`ingest-mail: could not write the code cache ${cacheFile}: ${e.message}\n`);
        }
      });
    }
    const mod = new Module(file, module);
    mod.filename = file;
    mod.paths = Module._nodeModulePaths(dirname(file));
    // require() as the loader gives a module: loads on behalf of (and report a require stack through)
    // the bundle's own module, with resolve, cache and main.
    const req = Object.assign((id) => mod.require(id), Module.createRequire(file));
    return { fn: script.runInThisContext(), mod, require: req, cache: Module._cache };
  } catch {
    return null;
  }
}

/** The 32 characters of `/* build ID *\/` on a bundle's first line, as bytes; null when there is none. */
function buildId(bytes) {
  const m = /^\/\* build ([0-9a-f]{32}) \*\/\n/.exec(bytes.toString("latin1", 0, 48));
  return m ? Buffer.from(m[1], "latin1") : null;
}

/** Loads a CommonJS file through compile(), once, as require() would (falls back to require()). */
function requireCompiled(file) {
  const Module = module.constructor;
  if (Module._cache[file]) return Module._cache[file].exports;
  const compiled = compile(file);
  if (!compiled) return require(file);
  const { fn, mod, cache } = compiled;
  cache[file] = mod;
  fn.call(mod.exports, mod.exports, compiled.require, mod, file, dirname(file));
  mod.loaded = true;
  return mod.exports;
}
// INGEST_MAIL_DEBUG=1: stack traces name the TypeScript sources through the bundles' source maps
// (the MTA's bundle is minified, scripts/bundle.mjs). Node applies a source map to what require()
// loads, not to a vm.Script, so the bundles are required plainly then, without their code cache.
const debug = !!process.env.INGEST_MAIL_DEBUG;
if (debug) process.setSourceMapsEnabled(true);
const load = debug ? require : requireCompiled;
globalThis[Symbol.for("ingest-mail.require-compiled")] = load;

load(bundle);
