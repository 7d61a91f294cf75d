// HTML to text in one linear pass, for HTML too large to hand to html-to-text (issue 9.3). Crude on
// purpose: tags go, block ends become line breaks, script and style contents go, the common
// entities are decoded. Every step is an indexOf scan or a regex without nested quantifiers.
const BLOCK_END = /^\/?(br|p|div|tr|li|h[1-6]|table|blockquote|pre|hr)\b/i;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function stripTags(html: string): string {
  const out: string[] = [];
  const lower = html.toLowerCase();
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    const gt = html.indexOf(">", lt + 1);
    if (gt < 0) {
      out.push(html.slice(lt));
      break;
    }
    const head = lower.slice(lt + 1, Math.min(gt, lt + 12));
    i = gt + 1;
    if (head.startsWith("script") || head.startsWith("style")) {
      const close = lower.indexOf(`</${head.startsWith("script") ? "script" : "style"}`, i);
      i = close < 0 ? html.length : close;
    } else if (BLOCK_END.test(head)) out.push("\n");
  }
  return out
    .join("")
    .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (m, e: string) => {
      if (e[0] !== "#") return ENTITIES[e.toLowerCase()] ?? m;
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    })
    // Line by line: a regex like /[ \t]+\n/ retries at every position of a long blank run.
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
