/// <reference path="../../src/types/html-to-text.d.ts" />
// src/pipeline/html-convert.ts keeps one compiled html-to-text converter per depth limit and uses it
// for every HTML body of a long-running process (serve, import): the text of each body must be what
// a fresh convert() gives it, whatever was converted before, so nothing of one mail reaches another.
import { convert } from "html-to-text";
import { describe, expect, it } from "vitest";
import { htmlToText } from "../../src/pipeline/html-convert.js";

const nested = (n: number) => "<div>".repeat(n) + "deep" + "</div>".repeat(n);
const bodies: [string, string][] = [
  ["paragraphs and a link", "<p>Hello <b>Ann</b>,</p><p>see <a href='https://example.org/x'>the page</a>.</p>"],
  ["a table", "<table><tr><th>Order</th><th>State</th></tr><tr><td>1234</td><td>shipped</td></tr></table>"],
  ["lists", "<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>"],
  ["a quoted reply", "<p>Yes.</p><blockquote><p>Can you call me?</p><blockquote>Older</blockquote></blockquote>"],
  ["an unclosed tag", "<p>open <b>bold <i>both"],
  ["text only", "no tags at all &amp; an entity"],
  ["empty", ""],
  ["nested past 100 levels", nested(150)],
  ["nested past 1000 levels", nested(1200)],
];

describe("htmlToText (one compiled converter per depth limit)", () => {
  it.each([100, 1000])("gives what convert() gives, in any order (maxDepth %i)", (maxDepth) => {
    const fresh = (html: string) => convert(html, { limits: { maxDepth } });
    // Forwards, backwards, then each body right after every other one.
    const order = [...bodies, ...[...bodies].reverse(), ...bodies.flatMap((a) => bodies.flatMap((b) => [a, b]))];
    for (const [name, html] of order) expect(htmlToText(html, maxDepth), name).toBe(fresh(html));
  });

  it("keeps the two depth limits apart", () => {
    const deep = nested(150);
    expect(htmlToText(deep, 100)).toBe(convert(deep, { limits: { maxDepth: 100 } }));
    expect(htmlToText(deep, 1000)).toBe("deep");
    expect(htmlToText(deep, 100)).not.toContain("deep");
  });
});
