// Bundles the CLI into dist/bundle/ingest-mail.cjs so a cold `ingest-mail` start (the MTA starts one
// process per message) resolves and compiles as few modules as possible, and does at start only
// the work every message needs. Measured with `npm run bench` (cold start).
import { build } from "esbuild";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

const requireAtBuild = createRequire(import.meta.url);
const outdir = "dist/bundle";
const EXTERNAL = "external:";
/** A require() specifier for a file in node_modules, relative to the bundle, left out of it. */
const atRunTime = (file) => JSON.stringify(`${EXTERNAL}./${relative(resolve(outdir), file)}`);

// Loaded on first use: most mail is UTF-8 plain text and never needs HTML → text, the legacy
// charset tables or the charset detector (chardet: only for text in no charset it declares).
// dom-serializer (in the html-to-text bundle) serves only html-to-text's blockHtml/inlineHtml
// formatters, which our options never select; it brings a second copy of `entities` whose tables
// (an HTML decode tree, a 2,100-entry encode map) were built on every HTML-only mail's start, a few
// ms of it (issue 9, cold start).
// The RTF reader and decompressor serve only a mail whose one body is winmail.dat's RTF (rtf-body.ts),
// asn1js only S/MIME signed-data (smime-signed.ts).
const lazy = ["html-to-text", "iconv-lite", "encoding-japanese", "he", "punycode.js", "dom-serializer", "chardet", "rtf-stream-parser", "rtf-stream-parser/dist/src/ToPlainText.js", "@kenjiuno/decompressrtf", "asn1js"];
// Lazy modules taken from their CommonJS build (their ESM build is only require()-able from Node 20.19).
const lazyAsCommonJs = new Set(["dom-serializer"]);
// Lazy modules that get a bundle of their own (dist/bundle/NAME.cjs) instead of node_modules.
const CHUNKS = [{ name: "html-to-text", test: /html-to-text\/lib\/html-to-text\.[cm]js$/, entry: null }];

// Module-level work in dependencies that only some mail needs, deferred to first use. Each search
// string must match exactly once, so an upgrade that changes the code fails the build loudly
// instead of silently losing the saving. A replacement may be a function of the file's path.
const deferrals = [
  {
    // htmlparser2's `entities` decodes its HTML entity tree from base64 at load, two bytes at a time
    // in JavaScript: 3.6 ms of every HTML-only mail's cold start (profiled). Node's own base64
    // decoder gives the same little-endian 16-bit words; the JavaScript loop stays for big-endian
    // machines.
    file: /htmlparser2\/node_modules\/entities\/dist\/(esm|commonjs)\/internal\/decode-shared\.js$/,
    edits: [
      [
        /export function decodeBase64\(input\) \{/,
        `export function decodeBase64(input) {
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) {
        const bytes = Buffer.from(input, "base64");
        const out = new Uint16Array(bytes.length >> 1);
        new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 2));
        return out;
    }`,
      ],
    ],
  },
  {
    // html-to-text compiles its default selectors into a decision tree on every start: parseley
    // parses about 30 selectors and selderee weaves them, ~7 ms of every HTML-only mail's cold
    // start (profiled). The tree depends only on the selector strings: it is woven once at build
    // time (wovenAtBuild below) and read back as JSON; other selectors are woven as before.
    file: /selderee\/lib\/selderee\.(mjs|cjs)$/,
    edits: [
      [
        /class DecisionTree \{/,
        `let __WOVEN = "INGEST_MAIL_WOVEN";
function __woven(input, options, weaveNow) {
    if (typeof __WOVEN === "string") __WOVEN = __WOVEN.startsWith("{") ? JSON.parse(__WOVEN) : {};
    const key = JSON.stringify([input.map((pair) => pair[0]), options]);
    const saved = __WOVEN[key];
    if (saved === undefined) {
        const branches = weaveNow();
        globalThis[Symbol.for("ingest-mail.woven")]?.(key, branches);
        return branches;
    }
    return JSON.parse(saved, (k, v) => (k === "valueContainer" ? { index: v.index, value: input[v.index][1], specificity: v.specificity } : v));
}
class DecisionTree {`,
      ],
      [/this\.branches = weave\(toAstTerminalPairs\(input, options\)\);/, "this.branches = __woven(input, options, () => weave(toAstTerminalPairs(input, options)));"],
    ],
  },
  {
    file: /libmime\/dist\/(cjs|esm)\/charset\.js$/,
    edits: [
      [/const UNSUPPORTED_CODECS = new Set\(/, "let __unsupported; const UNSUPPORTED_CODECS = { has: (c) => (__unsupported ??= __makeUnsupported()).has(c) }; const __makeUnsupported = () => new Set("],
      [/const DBCS_DECODER = ([\w.]+)\.getCodec\('gbk'\)\.decoder;/, "let __dbcs; const DBCS_DECODER = () => (__dbcs ??= $1.getCodec('gbk').decoder);"],
      [/codec\.decoder === DBCS_DECODER\b/, "codec.decoder === DBCS_DECODER()"],
      [/const BYTE_ORDER_GUESSING = new Map\(\[/, "let __bog; const BYTE_ORDER_GUESSING = { get: (c) => (__bog ??= __makeBog()).get(c) }; const __makeBog = () => new Map(["],
      // Mail is hostile (issue 9.3): a charset iconv-lite does not know was found out by catching
      // the Error its getCodec throws, twice a word (here, then in iconv.decode). 60,000 encoded
      // words of as many made-up charsets in one filename took 4 s, most of it building those
      // errors (profiled). The name is looked up as getCodec does, without throwing; an unknown
      // one is decoded as UTF-8, which is what the catch below did.
      [
        /const isUnsupportedCodec = \(name\) => \{\n(\s*)try \{\n\s*return UNSUPPORTED_CODECS\.has\(([\w.]+)\.getCodec\(name\)\);/,
        (_file) => (m, indent, iconv) =>
          `const __knownCodec = (name) => {
    if (!${iconv}.encodings) return true;
    let e = ${iconv}._canonicalizeEncoding(name);
    for (let i = 0; i < 32; i++) {
        if (${iconv}._codecDataCache[e]) return true;
        const d = ${iconv}.encodings[e];
        if (typeof d === "string") e = d;
        else if (d && typeof d === "object") e = d.type;
        else return typeof d === "function";
    }
    return true;
};
${m.replace("{\n", "{\n" + indent + "if (!__knownCodec(name)) return false;\n")}`,
      ],
      [
        /(function decode\(buf, fromCharset\) \{\n(\s*)fromCharset = normalizeCharset\(fromCharset \|\| 'UTF-8'\);)/,
        (_file) => (_m, head, indent) => `${head}\n${indent}if (!__knownCodec(fromCharset) && !JAPANESE_CHARSET.test(fromCharset)) return buf.toString();`,
      ],
    ],
  },
  {
    // The MIME type ↔ extension tables (86 KB, built at load) serve only attachments without a
    // usable Content-Type: left out of the bundle, loaded from node_modules on first use.
    file: /libmime\/dist\/cjs\/libmime\.js$/,
    edits: [
      [
        /const mimetypes = __importStar\(require\("\.\/mimetypes\.js"\)\);/,
        (file) => {
          const load = `(__mimetypes ??= require(${atRunTime(join(dirname(file), "mimetypes.js"))}))`;
          return `let __mimetypes; const mimetypes = { get list() { return ${load}.list; }, get extensions() { return ${load}.extensions; } };`;
        },
      ],
    ],
  },
  {
    // pg loads dns for one lookup that only its native client's connection string makes: loading it
    // (and c-ares' set-up) was ~1 ms of every cold ingest on PostgreSQL (issue 11, profiled).
    file: /pg\/lib\/connection-parameters\.js$/,
    edits: [[/const dns = require\('dns'\)\n/, "let dnsModule\nconst dns = { lookup: (...a) => (dnsModule ??= require('dns')).lookup(...a) }\n"]],
  },
  {
    // pg copies each query's config through its property descriptors (Object.create and
    // Object.getOwnPropertyDescriptors, a slow path in V8): ~4 % of import's main thread on
    // PostgreSQL (profiled, 10,000 mails: 0.04 ms a mail). Our configs are plain objects of data
    // properties (src/store/postgres/engine.ts query()), which a spread copies the same; anything
    // else is copied as before.
    file: /pg\/lib\/utils\.js$/,
    edits: [
      [
        /function cloneQueryConfig\(config\) \{\n  if \(config == null\) \{\n    return config\n  \}\n/,
        "function cloneQueryConfig(config) {\n  if (config == null) {\n    return config\n  }\n  if (Object.getPrototypeOf(config) === Object.prototype) return { ...config }\n",
      ],
    ],
  },
  {
    // Every address header is also rendered as HTML (with `he`), which nothing here reads.
    file: /mailparser\/dist\/esm\/mail-parser\.js$/,
    edits: [
      [/html: this\.getAddressesHTML\(value\),/, "get html() { return formatAddressesHTML(value); },"],
      // The TLD list (1,500 names) is read only by linkify, deferred below: left out of the bundle and
      // made only when the deferred linkify replays its set-up.
      [/import tlds from '\.\/tlds\.cjs';/, (file) => `const tlds = { [Symbol.for("ingest-mail.deferred")]: () => require(${atRunTime(join(dirname(file), "tlds.cjs"))}) };`],
      // Readable.prototype.pipe reads process.stdout and process.stderr (it never ends those), and
      // reading them creates both streams: for the pipes an MTA gives that loads net, a few ms of
      // every cold ingest (issue 9, cold start). { end: false } and ending the destination at the
      // source's 'end' is the same pipe without that (Node's own stream.pipeline does it so).
      [/this\.chunkedPassthrough\.pipe\(this\.splitter\);/, "this.chunkedPassthrough.pipe(this.splitter, { end: false }); this.chunkedPassthrough.once('end', () => this.splitter.end());"],
      [/contentStream\.pipe\(flowDecoder\);/, "contentStream.pipe(flowDecoder, { end: false }); contentStream.once('end', () => flowDecoder.end());"],
      // An HTML part with no text part: converted by src/pipeline/html-convert.ts, which compiles
      // html-to-text's converter once (convert() compiles it on every call), with the same options.
      [/import \{ htmlToText \} from 'html-to-text';/, `import { htmlToText as __htmlToText } from ${JSON.stringify(resolve("src/pipeline/html-convert.ts"))};`],
      [/htmlToText\(node\.textContent, \{ limits: \{ maxDepth: MAX_HTML_NESTING_DEPTH \} \}\)/, "__htmlToText(node.textContent, MAX_HTML_NESTING_DEPTH)"],
      [/contentStream\.pipe\(decodeStream\);/, "contentStream.pipe(decodeStream, { end: false }); contentStream.once('end', () => decodeStream.end());"],
      // Issue 9.3: a text part is gathered whole before it is decoded; past options.maxTextBytes the
      // rest is read and dropped (a 90 MB text body would otherwise be held several times over).
      [
        /chunks\.push\(chunk\);\s*chunklen \+= chunk\.length;/,
        "if (!(chunklen >= this.options.maxTextBytes)) { chunks.push(chunk); chunklen += chunk.length; }",
      ],
    ],
  },
];

// linkify-it compiles its full TLD list when mailparser loads; we never linkify (skipTextLinks),
// so the builder calls are recorded and replayed only if something does use it, with linkify-it
// (and the TLD list) loaded from node_modules then.
const deferredLinkify = (real) => `
let real;
const load = () => (real ??= require(${atRunTime(real)}));
const DEFERRED = Symbol.for("ingest-mail.deferred");
const value = (x) => (x && typeof x === "object" && DEFERRED in x ? x[DEFERRED]() : x);
module.exports = function deferredLinkify(...args) {
  const calls = [];
  let it;
  const get = () => { if (!it) { it = load()(...args); for (const [m, a] of calls) it[m](...a.map(value)); } return it; };
  const proxy = new Proxy({}, {
    get(_, k) {
      if (!it && (k === "tlds" || k === "add" || k === "set")) return (...a) => (calls.push([k, a]), proxy);
      const v = get()[k];
      return typeof v === "function" ? v.bind(it) : v;
    },
  });
  return proxy;
};`;

// Kept out of the bundle file, loaded from node_modules at run time: V8 has to pre-parse every byte
// of the bundle at start, and these are large (legacy charset tables, HTML parsing, IMAP, SMTP).

// better-sqlite3's JavaScript is bundled (one file, in the code cache, instead of a dozen resolved
// and compiled at every start); its native addon is required straight from where `bindings` finds
// it at build time, without bindings' search of a dozen candidate paths on every start.
const sqliteAddon = requireAtBuild("bindings")({
  bindings: "better_sqlite3.node",
  path: true,
  module_root: dirname(requireAtBuild.resolve("better-sqlite3/package.json")),
});

/** A require() at run time of a bundle next to this one, through the launcher's loader (bin/ingest-mail.js: code cache) when there is one. */
const compiledLoad = (target) => `(globalThis[Symbol.for("ingest-mail.require-compiled")] ?? require)(require("node:path").join(__dirname, ${JSON.stringify(target)}))`;

const deferPlugin = {
  name: "defer",
  setup(b) {
    const lazyFilter = new RegExp(`^(${lazy.map((m) => m.replace(/[.\/]/g, "\\$&")).join("|")})$`);
    // Resolve each lazy module where its importer would (nested versions differ), then load it
    // through a stand-in that requires the real file, relative to the bundle, on first use.
    b.onResolve({ filter: lazyFilter }, async (args) => {
      if (args.pluginData === "real") return undefined;
      const kind = lazyAsCommonJs.has(args.path) ? "require-call" : args.kind;
      const real = await b.resolve(args.path, { kind, resolveDir: args.resolveDir, pluginData: "real" });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: "lazy" };
    });
    // mailparser imports libmime's ESM build and mailsplit requires its CJS build: bundle one copy.
    b.onResolve({ filter: /^libmime(\/.*)?$/ }, async (args) => {
      if (args.pluginData === "real" || args.kind === "require-call") return undefined;
      const real = await b.resolve(args.path, { kind: "require-call", resolveDir: args.resolveDir, pluginData: "real" });
      return real.errors.length ? { errors: real.errors } : { path: real.path };
    });
    // The PostgreSQL engine (issue 11) and its driver are their own bundle, postgres.cjs, loaded only
    // for a postgres:// URL: the SQLite path (every MTA delivery on one host) never reads them. It is
    // compiled by the launcher's loader, with its own code cache when the build could make one
    // (scripts/code-cache.mjs); a worker thread, without the launcher, requires it.
    b.onResolve({ filter: /\/postgres\/engine\.js$/ }, (args) => (/src[\\/]store[\\/]open\.ts$/.test(args.importer) ? { path: "postgres", namespace: "postgres-apart" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "postgres-apart" }, () => ({ contents: `module.exports = ${compiledLoad("./postgres.cjs")};`, loader: "js", resolveDir: process.cwd() }));
    // The web console (issue 15) is its own bundle, web.cjs: `ingest-mail web` loads it, nothing else.
    b.onResolve({ filter: /\/web\/server\.js$/ }, (args) => (/src\/cli\//.test(args.importer) ? { path: "./web.cjs", external: true } : undefined));
    b.onResolve({ filter: new RegExp(`^${EXTERNAL}`) }, (args) => ({ path: args.path.slice(EXTERNAL.length), external: true }));
    b.onLoad({ filter: /.*/, namespace: "lazy" }, (args) => {
      // html-to-text is 60 modules: loaded one by one from node_modules they cost an HTML-only mail
      // ~80 ms (issue 9, cold start). It gets a bundle of its own, with its own code cache,
      // compiled by the launcher's loader (bin/ingest-mail.js) on first use.
      const chunk = CHUNKS.find((c) => c.test.test(args.path));
      if (chunk) chunk.entry = args.path;
      const target = chunk ? `./${chunk.name}.cjs` : `./${relative(resolve(outdir), args.path)}`;
      const loader = chunk ? compiledLoad(target) : `require(${JSON.stringify(EXTERNAL + target)})`;
      // Named imports (import { htmlToText } from ...) need real ESM exports: one forwarding
      // function per function the module exports, read off the module at build time (a class
      // among them is constructed through it: new.target).
      const names = Object.entries(requireAtBuild(args.path))
        .filter(([k, v]) => typeof v === "function" && /^[A-Za-z_$][\w$]*$/.test(k) && k !== "default")
        .map(([k]) => k);
      return {
        contents: `let real; const load = () => (real ??= ${loader});
export default new Proxy(function () {}, {
  get: (_, k) => load()[k],
  has: (_, k) => k in load(),
  apply: (_, self, a) => load().apply(self, a),
  construct: (_, a) => new (load())(...a),
});
${names.map((n) => `export function ${n}(...a) { return new.target ? new (load().${n})(...a) : load().${n}(...a); }`).join("\n")}`,
        loader: "js",
        resolveDir: process.cwd(),
      };
    });
    // Issue 9.3: mailparser parses every address header with nodemailer's addressparser, which is
    // quadratic in some inputs; it gets our bounded wrapper instead (src/pipeline/address-list.ts).
    // The wrapper's own import of addressparser is bundled (one small file): nodemailer as a whole
    // stays external, loaded only for outbound mail.
    b.onResolve({ filter: /^nodemailer\/lib\/addressparser(\/index\.js)?$/ }, (args) =>
      /mailparser/.test(args.importer) ? { path: resolve("src/pipeline/address-list.ts") } : { path: requireAtBuild.resolve("nodemailer/lib/addressparser/index.js") },
    );
    b.onResolve({ filter: /^bindings$/ }, (args) => (/better-sqlite3/.test(args.importer) ? { path: "bindings", namespace: "sqlite-addon" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "sqlite-addon" }, () => ({ contents: `module.exports = () => require(${atRunTime(sqliteAddon)});`, loader: "js", resolveDir: process.cwd() }));
    b.onResolve({ filter: /^linkify-it$/ }, async (args) => {
      if (args.pluginData === "real") return undefined;
      const real = await b.resolve(args.path, { kind: "require-call", resolveDir: args.resolveDir, pluginData: "real" });
      return real.errors.length ? { errors: real.errors } : { path: real.path, namespace: "deferred-linkify" };
    });
    b.onLoad({ filter: /.*/, namespace: "deferred-linkify" }, (args) => ({ contents: deferredLinkify(args.path), loader: "js", resolveDir: process.cwd() }));
    // src/pipeline/mailparser-own.ts finds mailparser's own copies of mailsplit, libmime and libqp at
    // run time (createRequire); bundled, it names the same files statically, so they are the very
    // modules mailparser's bundled copy runs on (one copy, in the code cache).
    b.onLoad({ filter: /src[\\/]pipeline[\\/]mailparser-own\.ts$/ }, () => {
      const fromMailparser = createRequire(requireAtBuild.resolve("mailparser"));
      const mimeNode = fromMailparser.resolve("@zone-eu/mailsplit/lib/mime-node.js");
      const file = (p) => JSON.stringify(p);
      return {
        contents: `export const MimeNode = require(${file(mimeNode)});
export const libmime = require(${file(fromMailparser.resolve("libmime"))});
export const libqp = require(${file(createRequire(mimeNode).resolve("libqp"))});
export const charsets = require(${file(fromMailparser.resolve("libmime/lib/charset.js"))});
export const iconvLite = require("iconv-lite");`,
        loader: "js",
        // iconv-lite resolved from libmime's charset module, as its own require() is: the same lazy module.
        resolveDir: dirname(fromMailparser.resolve("libmime/lib/charset.js")),
      };
    });
    for (const d of deferrals) {
      b.onLoad({ filter: d.file }, (args) => {
        let text = readFileSync(args.path, "utf8");
        for (const [from, to] of d.edits) {
          const n = (text.match(new RegExp(from.source, "g")) ?? []).length;
          if (n !== 1) throw new Error(`bundle: expected one ${from} in ${args.path}, found ${n}; review scripts/bundle.mjs after the upgrade`);
          text = text.replace(from, typeof to === "function" ? to(args.path) : to);
        }
        return { contents: text, loader: "js" };
      });
    }
  },
};

// The command table's import of the serve command becomes a require of dist/bundle/serve.cjs at
// run time. Its fault classes are its own copies: src/errors.ts brands them, so main.ts still maps
// them to their exit codes.
const serveApart = {
  name: "serve-apart",
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/serve\.js$/ }, (args) => (/src[\\/]cli[\\/]program\.ts$/.test(args.importer) ? { path: "./serve.cjs", external: true } : undefined));
  },
};

const common = {
  outdir,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // nodemailer (outbound mail) and imapflow (poll) are imported only by the commands that need them;
  // commander only by src/cli/program.ts, which the MTA's plain ingest call never loads (main.ts);
  // smtp-server only by `serve` (issue 12).
  external: ["nodemailer", "imapflow", "commander", "smtp-server", "pg-native"],
  plugins: [deferPlugin, serveApart],
  // import() of an external (nodemailer) as require(): the launcher compiles the bundle with vm.Script
  // (for the code cache), where a real import() needs a loader callback that older Node 20 lacks.
  supported: { "dynamic-import": false },
  define: { "import.meta.url": "__importMetaUrl" },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: "warning",
  metafile: !!process.env.BUNDLE_META,
};
// What one process per mail loads (the MTA's ingest; the PostgreSQL engine on a postgres:// URL) is
// minified: V8 reads a third of the bytes and smaller scope data from the code cache on every start,
// 2.6 % of a cold plain ingest (60 pairs, issue 9). Its source map (NAME.cjs.map) turns a recorded
// error's stack frame back into src/…:line (src/pipeline/source-frames.ts), and INGEST_MAIL_DEBUG=1
// maps whole stack traces (bin/ingest-mail.js). The long-running and rarely run entries stay as
// they are, readable in a stack trace.
// The worker threads `import` parses on (src/pipeline/prepare-pool.ts) load their own small entry.
// `serve` (issue 12) is a bundle of its own, required by the command table only when it runs: the
// MTA's one-process-per-mail bundle does not carry the daemon (see serveApart below).
const cold = await build({ ...common, entryPoints: { "ingest-mail": "src/cli/main.ts", postgres: "src/store/postgres/engine.ts" }, minify: true, sourcemap: "linked" });
const warm = await build({ ...common, entryPoints: { "prepare-worker": "src/pipeline/prepare-worker.ts", web: "src/web/server.ts", serve: "src/cli/commands/serve.ts", "serve-worker": "src/serve/processor-worker.ts" } });

for (const chunk of CHUNKS) {
  if (!chunk.entry) throw new Error(`bundle: ${chunk.name} was not imported lazily any more; review CHUNKS in scripts/bundle.mjs`);
  await build({ entryPoints: { [chunk.name]: chunk.entry }, outdir, outExtension: { ".js": ".cjs" }, bundle: true, format: "cjs", platform: "node", target: "node20", plugins: [deferPlugin], logLevel: "warning" });
}

wovenAtBuild(join(outdir, "html-to-text.cjs"));

/**
 * Writes into html-to-text's bundle the decision trees of the selectors it compiles by default
 * (see the selderee deferral): the bundle is loaded here, compiled as src/pipeline/html-convert.ts
 * compiles it, and each tree it weaves is kept, with a terminal's value (html-to-text's selector
 * definition, functions and all) kept as its index into the compiled list.
 */
function wovenAtBuild(file) {
  const woven = {};
  const hook = Symbol.for("ingest-mail.woven");
  globalThis[hook] = (key, branches) => {
    const json = JSON.stringify(branches, (k, v) => {
      if (typeof v === "function") throw new Error(`bundle: selderee's tree holds a function (${k}); review the selderee deferral in scripts/bundle.mjs`);
      return k === "valueContainer" ? { index: v.index, specificity: v.specificity } : v;
    });
    woven[key] = json;
  };
  try {
    createRequire(import.meta.url)(resolve(file)).compile({ limits: { maxDepth: 100 } });
  } finally {
    delete globalThis[hook];
  }
  if (Object.keys(woven).length !== 2) throw new Error(`bundle: expected html-to-text to weave 2 trees, it wove ${Object.keys(woven).length}`);
  const text = readFileSync(file, "utf8");
  const placeholder = '"INGEST_MAIL_WOVEN"';
  if (text.split(placeholder).length !== 2) throw new Error(`bundle: expected one ${placeholder} in ${file}`);
  writeFileSync(file, text.replace(placeholder, () => JSON.stringify(JSON.stringify(woven))));
}

// esbuild escapes non-ASCII in code but keeps it in comments (our "§"): one such character makes V8
// hold the whole source as a two-byte string, slower to read and scan on every start. \uXXXX is the
// same character in a string, regular expression or identifier, and harmless in a comment.
// Then the build id on the first line: the content's hash, which bin/ingest-mail.js compares with
// the one its code cache was made for (scripts/code-cache.mjs) instead of hashing the bundle on
// every start.
for (const name of ["ingest-mail", "postgres", ...CHUNKS.map((c) => c.name)]) {
  const bundleFile = join(outdir, `${name}.cjs`);
  const text = readFileSync(bundleFile, "utf8");
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const id = createHash("sha256").update(ascii).digest("hex").slice(0, 32);
  writeFileSync(bundleFile, `/* build ${id} */\n${ascii}`);
  // The build id's line comes first now: the source map's generated lines move down by one.
  const mapFile = `${bundleFile}.map`;
  if (existsSync(mapFile)) {
    const map = JSON.parse(readFileSync(mapFile, "utf8"));
    map.mappings = `;${map.mappings}`;
    writeFileSync(mapFile, JSON.stringify(map));
  }
}

if (process.env.BUNDLE_META) writeFileSync(process.env.BUNDLE_META, JSON.stringify({ inputs: { ...cold.metafile.inputs, ...warm.metafile.inputs }, outputs: { ...cold.metafile.outputs, ...warm.metafile.outputs } }));
