// The reply corpus (fixtures/replies/*.txt, format in its README.md) and how an extractor is scored
// on it: exact (same text, trailing spaces and blank edges aside), near (every expected line kept,
// in order, with at most three lines of history left over) and lost (an expected line missing, the
// one outcome issue 13 forbids).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, here.includes(`${sep}dist${sep}`) ? "../.." : "..");
export const corpusDir = join(repoRoot, "fixtures", "replies");

export interface ReplyCase {
  file: string;
  name: string;
  tags: string[];
  holdout: boolean;
  subject: string | null;
  input: string;
  expected: string;
}

const trimBlankEnd = (lines: string[]) => {
  let n = lines.length;
  while (n > 0 && lines[n - 1].trim() === "") n--;
  return lines.slice(0, n);
};

export function parseCorpusFile(file: string, text: string): ReplyCase[] {
  const out: ReplyCase[] = [];
  let cur: { name: string; tags: string[]; subject: string | null; input: string[]; expected: string[]; inExpected: boolean } | null = null;
  const flush = () => {
    if (!cur) return;
    const crlf = cur.tags.includes("crlf");
    const input = trimBlankEnd(cur.input).join(crlf ? "\r\n" : "\n");
    out.push({ file, name: cur.name, tags: cur.tags, holdout: cur.tags.includes("holdout"), subject: cur.subject, input, expected: trimBlankEnd(cur.expected).join("\n") });
  };
  for (const line of text.split("\n")) {
    const m = /^@@@ (case|subject|expected|#)\s?(.*)$/.exec(line);
    if (m?.[1] === "#") continue; // a comment between cases
    if (m?.[1] === "case") {
      flush();
      const [name, tags = ""] = m[2].split("|");
      cur = { name: name.trim(), tags: tags.trim().split(/\s+/).filter(Boolean), subject: null, input: [], expected: [], inExpected: false };
    } else if (m?.[1] === "subject" && cur) cur.subject = m[2];
    else if (m?.[1] === "expected" && cur) cur.inExpected = true;
    else if (cur) (cur.inExpected ? cur.expected : cur.input).push(line);
  }
  flush();
  return out;
}

export function loadCorpus(dir = corpusDir): ReplyCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .flatMap((f) => parseCorpusFile(f, readFileSync(join(dir, f), "utf8")));
}

const norm = (s: string) =>
  s
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
const nonBlank = (s: string) => norm(s).split("\n").map((l) => l.trim()).filter(Boolean);

/** Expected lines missing from the output (in order): the customer's text that was lost. */
export function lostLines(output: string, expected: string): string[] {
  const got = nonBlank(output);
  const lost: string[] = [];
  let j = 0;
  for (const line of nonBlank(expected)) {
    const k = got.indexOf(line, j);
    if (k < 0) lost.push(line);
    else j = k + 1;
  }
  return lost;
}

export type Verdict = "exact" | "near" | "extra" | "lost";

export function verdict(output: string, expected: string): Verdict {
  if (norm(output) === norm(expected)) return "exact";
  if (lostLines(output, expected).length) return "lost";
  return nonBlank(output).length - nonBlank(expected).length <= 3 ? "near" : "extra";
}

export interface Score {
  total: number;
  exact: number;
  near: number;
  extra: number;
  lost: number;
  misses: { name: string; verdict: Verdict }[];
}

export function score(cases: ReplyCase[], extract: (c: ReplyCase) => string): Score {
  const s: Score = { total: cases.length, exact: 0, near: 0, extra: 0, lost: 0, misses: [] };
  for (const c of cases) {
    let v: Verdict;
    try {
      v = verdict(extract(c), c.expected);
    } catch {
      v = "lost";
    }
    s[v]++;
    if (v !== "exact") s.misses.push({ name: c.name, verdict: v });
  }
  return s;
}
