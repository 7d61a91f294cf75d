// HTML to text with html-to-text, its converter compiled once per depth limit. convert(html, options)
// compiles the options on every call (the selectors into a decision tree): 0.6 of the 1.0 ms a 4 KB
// HTML body cost warm, on every HTML-only mail `serve` and `import` process. The compiled converter
// keeps no state between calls. mailparser's own conversion (an HTML part with no text part) goes
// through here too in the bundle (scripts/bundle.mjs).
import { compile } from "html-to-text";

const converters = new Map<number, (html: string) => string>();

/** The text of `html`, as html-to-text's convert(html, { limits: { maxDepth } }) gives it. */
export function htmlToText(html: string, maxDepth: number): string {
  let convert = converters.get(maxDepth);
  if (!convert) converters.set(maxDepth, (convert = compile({ limits: { maxDepth } })));
  return convert(html);
}
