// Reply extraction (issue 13 point 1) measured on fixtures/replies/: our extractor against the npm
// libraries that do the same job (email-reply-parser, planer; dev dependencies, measured only), on
// the tuning cases and on the held-out ones apart. Also the time on a 1 MB hostile body.
//   npm run bench:replies   (or: node dist/bench/replies.js [--misses])
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseMail } from "../src/pipeline/parse.js";
import { replyText } from "../src/rules/reply-text.js";
import { loadCorpus, repoRoot, score, type ReplyCase, type Score } from "./reply-corpus.js";

type Extractor = { name: string; extract: (c: ReplyCase) => string };

async function libraries(): Promise<Extractor[]> {
  const out: Extractor[] = [];
  try {
    const { default: EmailReplyParser } = await import("email-reply-parser");
    out.push({ name: "email-reply-parser", extract: (c) => new EmailReplyParser().read(c.input).getVisibleText() });
  } catch {
    process.stdout.write("email-reply-parser not installed (dev dependency): skipped\n");
  }
  try {
    const planer = createRequire(import.meta.url)("planer") as { extractFrom(body: string, type: string): string };
    out.push({ name: "planer", extract: (c) => planer.extractFrom(c.input, "text/plain") });
  } catch {
    process.stdout.write("planer not installed (dev dependency): skipped\n");
  }
  return out;
}

const pct = (n: number, d: number) => `${((100 * n) / Math.max(d, 1)).toFixed(1)}%`;
const line = (name: string, set: string, s: Score) =>
  `${name.padEnd(20)} ${set.padEnd(8)} ${String(s.total).padStart(3)} cases  exact ${pct(s.exact, s.total).padStart(6)}  exact+near ${pct(s.exact + s.near, s.total).padStart(6)}  lost text ${s.lost}`;

function hostileTime(): string {
  const bodies = {
    "1 MB of '>' lines": "> ".repeat(8) + "\n".repeat(1) + "> a\n".repeat(250_000),
    "1 MB of '-- ' / '--' lines": "--\n-- \n".repeat(150_000),
    "1 MB one line of 'On ' ": "On ".repeat(350_000) + "wrote:",
    "1 MB of 'From: x' blocks": "From: a\nSent: b\n".repeat(60_000),
    "1 MB of wrapped attributions": "On 1 <a@b\n".repeat(100_000),
  };
  const parts = Object.entries(bodies).map(([what, body]) => {
    const t0 = performance.now();
    replyText(body);
    return `${what} ${(performance.now() - t0).toFixed(0)} ms`;
  });
  return `hostile input (ours): ${parts.join("; ")}`;
}

/** Real helpdesk mail from ../shared/corpus (no expected text there): how many bodies lose their
 * history, and that none is emptied. Skipped when the shared corpus is absent. */
async function sharedCorpus(): Promise<string> {
  const dir = join(repoRoot, "..", "shared", "corpus"); // never copied into the repository
  if (!existsSync(dir)) return "shared corpus: absent, skipped";
  const files = [
    ...readdirSync(join(dir, "zammad")).filter((f) => f.endsWith(".box")).map((f) => join(dir, "zammad", f)),
    ...readdirSync(join(dir, "discourse")).filter((f) => f.endsWith(".eml")).map((f) => join(dir, "discourse", f)),
  ];
  const scratch = mkdtempSync(join(tmpdir(), "ingest-mail-replies-"));
  let bodies = 0;
  let shortened = 0;
  let emptied = 0;
  let ms = 0;
  try {
    for (const f of files) {
      const parsed = await parseMail(createReadStream(f), join(scratch, "att")).catch(() => null);
      if (!parsed?.text?.trim()) continue;
      bodies++;
      const t0 = performance.now();
      const out = replyText(parsed.text, { subject: parsed.subject });
      ms += performance.now() - t0;
      if (!out.trim()) emptied++;
      else if (out.length < parsed.text.trim().length) shortened++;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return `shared corpus (zammad + discourse, real mail, no expected text): ${bodies} bodies, ${shortened} shortened, ${emptied} emptied, ${ms.toFixed(0)} ms in all`;
}

export async function run(opts: { misses?: boolean } = {}): Promise<string> {
  const cases = loadCorpus();
  const sets: [string, ReplyCase[]][] = [
    ["tuning", cases.filter((c) => !c.holdout)],
    ["holdout", cases.filter((c) => c.holdout)],
    ["all", cases],
  ];
  const extractors: Extractor[] = [{ name: "ingest-mail", extract: (c) => replyText(c.input, { subject: c.subject }) }, ...(await libraries())];
  const lines: string[] = [];
  for (const x of extractors) {
    for (const [set, cs] of sets) {
      const s = score(cs, x.extract);
      lines.push(line(x.name, set, s));
      if (opts.misses && set === "all" && s.misses.length) lines.push(`  misses: ${s.misses.map((m) => `${m.name} (${m.verdict})`).join(", ")}`);
    }
  }
  lines.push(await sharedCorpus());
  lines.push(hostileTime());
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void run({ misses: process.argv.includes("--misses") }).then((out) => process.stdout.write(`${out}\n`));
}
