// domain.md §6 measured: precision and recall of auto-generated detection on the labelled corpus
// (../shared/corpus/autogen-labels.tsv; never copied into the repo). The floors make a regression
// fail; `npm run bench:autogen` prints the numbers and every miss.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultCorpusDir, ownSetDir, scoreAutogen, type AutogenScore } from "../bench/autogen.js";

const corpus = defaultCorpusDir();
const present = existsSync(join(corpus, "autogen-labels.tsv"));
if (!present) console.warn(`autogen corpus not found at ${corpus}: precision/recall test skipped`);

describe.skipIf(!present)("auto-generated detection on the labelled corpus", () => {
  let score: AutogenScore;

  it("scores every labelled mail through the pipeline's parse and detectAuto", { timeout: 300_000 }, async () => {
    score = await scoreAutogen(corpus);
    console.log(
      `autogen: ${score.total} mails, TP ${score.truePositive} FP ${score.falsePositive} FN ${score.falseNegative} TN ${score.trueNegative}, ` +
        `precision ${score.precision.toFixed(4)}, recall ${score.recall.toFixed(4)}`,
    );
    expect(score.total).toBeGreaterThan(800);
  });

  it("precision stays at or above 0.95", () => {
    expect(score.precision).toBeGreaterThanOrEqual(0.95);
  });

  it("recall stays at or above 0.97 (0.9964 measured after issue 13; 0.9893 before it; 0.8446 before the extended sender and report-part rules)", () => {
    expect(score.recall).toBeGreaterThanOrEqual(0.97);
  });

  it("no human-labelled mail is flagged (X-Auto-Response-Suppress alone among them)", () => {
    expect(score.misses.filter((m) => !m.expected).map((m) => `${m.path}: ${m.reasons.join("; ")}`)).toEqual([]);
    expect(score.trueNegative).toBeGreaterThanOrEqual(9);
  });
});

// issue 13: our own labelled mails (fixtures/autogen/). `heldout` was written before the header-less
// rules and never used to tune them; its figures are the ones that say how detection does on mail
// it has not seen.
describe("auto-generated detection on our own labelled sets (issue 13)", () => {
  it.each([
    ["tuning", 18],
    ["heldout", 57],
  ] as const)("%s: precision ≥ 0.99 and recall ≥ 0.97", async (set, size) => {
    const s = await scoreAutogen(ownSetDir(set));
    console.log(`autogen own ${set}: ${s.total} mails, TP ${s.truePositive} FP ${s.falsePositive} FN ${s.falseNegative} TN ${s.trueNegative}`);
    expect(s.total).toBe(size);
    expect(s.trueNegative).toBeGreaterThanOrEqual(6);
    expect(s.precision).toBeGreaterThanOrEqual(0.99);
    expect(s.recall).toBeGreaterThanOrEqual(0.97);
  });
});
