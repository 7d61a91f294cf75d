// The console's one stylesheet, served from the binary at /style.css (no remote fonts or images).
// Status colours follow the CLI's (src/cli/output.ts callers): complete green, error red, invalid
// and held yellow, duplicate grey, the rest cyan. Dark mode follows the browser.
export const css = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2430; --muted: #5b6675; --line: #dde1e7; --accent: #1f5fbf;
  --green: #1a7f37; --green-bg: #e6f4ea; --red: #b42318; --red-bg: #fdecea; --yellow: #8a5a00; --yellow-bg: #fff4d6;
  --gray: #57606a; --gray-bg: #eef0f2; --cyan: #0e6f80; --cyan-bg: #e0f4f7; --focus: #f0b400;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1419; --panel: #171d24; --text: #e3e8ee; --muted: #9aa5b1; --line: #2b333d; --accent: #7fb0ff;
    --green: #6fd08c; --green-bg: #15301f; --red: #ff8a80; --red-bg: #3a1b1b; --yellow: #f2c94c; --yellow-bg: #362c12;
    --gray: #aab3bd; --gray-bg: #252c34; --cyan: #6fd3e3; --cyan-bg: #12303a; --focus: #f0b400;
  }
}
* { box-sizing: border-box; }
html { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif; background: var(--bg); color: var(--text); }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, textarea:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: var(--panel); padding: 6px 10px; z-index: 2; }
header.top { background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .in { max-width: 1240px; margin: 0 auto; padding: 10px 16px; display: flex; gap: 18px; align-items: center; flex-wrap: wrap; }
header.top .brand { font-weight: 700; color: var(--text); text-decoration: none; margin-right: 8px; }
header.top nav { display: flex; gap: 4px; flex-wrap: wrap; }
header.top nav a { text-decoration: none; color: var(--muted); padding: 6px 10px; border-radius: 6px; }
header.top nav a[aria-current="page"] { color: var(--text); background: var(--bg); font-weight: 600; }
header.top form { margin-left: auto; }
main { max-width: 1240px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.35rem; margin: 4px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 22px 0 8px; }
.panel > h2:first-child, .panel > h1:first-child { margin-top: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 14px; }
.muted { color: var(--muted); }
.mono, code, pre { font-family: var(--mono); font-size: 0.86rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.tabs { display: flex; gap: 6px; flex-wrap: wrap; margin: 0 0 12px; padding: 0; list-style: none; }
.tabs a { display: inline-block; text-decoration: none; border: 1px solid var(--line); background: var(--panel); color: var(--text); padding: 4px 10px; border-radius: 999px; font-size: 0.9rem; }
.tabs a[aria-current="true"] { border-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); font-weight: 600; }
.tabs .n { color: var(--muted); margin-left: 4px; font-variant-numeric: tabular-nums; }
.searchbar { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; }
.searchbar > div { flex: 1 1 260px; }
details.more summary { cursor: pointer; color: var(--muted); margin-top: 10px; }
details.more .filters { margin-top: 8px; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px 12px; align-items: end; }
label { display: block; font-size: 0.82rem; color: var(--muted); }
input, select, textarea { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; width: 100%; }
button, .button { font: inherit; cursor: pointer; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; padding: 6px 12px; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
@media (prefers-color-scheme: dark) { button, .button { color: #0f1419; } }
table.list { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
table.list th, table.list td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.list th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); background: var(--bg); }
table.list td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.list td.subject { overflow-wrap: anywhere; min-width: 16em; }
table.list td.from { overflow-wrap: break-word; min-width: 15em; max-width: 24em; }
.addr { display: block; }
table.list tr:last-child td { border-bottom: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8rem; font-weight: 600; white-space: nowrap; background: var(--cyan-bg); color: var(--cyan); }
.badge.complete, .badge.sent { background: var(--green-bg); color: var(--green); }
.badge.error, .badge.failed, .badge.stuck { background: var(--red-bg); color: var(--red); }
.badge.invalid, .badge.held, .badge.skipped, .badge.sending, .badge.digest { background: var(--yellow-bg); color: var(--yellow); }
.badge.duplicate, .badge.closed, .badge.resolved, .badge.digested { background: var(--gray-bg); color: var(--gray); }
.badge.stuck { border: 1px solid var(--red); }
.pager { display: flex; gap: 10px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
ol.steps { margin: 0; padding-left: 1.4em; }
ol.steps li { margin: 3px 0; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; }
.notice { border-left: 4px solid var(--accent); }
.notice.bad { border-left-color: var(--red); }
.notice.good { border-left-color: var(--green); }
article.msg { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 12px; }
article.msg header { padding: 8px 14px; border-bottom: 1px solid var(--line); display: flex; gap: 10px; flex-wrap: wrap; align-items: baseline; }
article.msg header .who { font-weight: 600; overflow-wrap: anywhere; }
article.msg .body { padding: 10px 14px; }
details.quoted summary { color: var(--muted); cursor: pointer; margin-top: 8px; }
iframe.mailhtml { width: 100%; height: 420px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.narrow { max-width: 380px; margin: 40px auto; }
.inline-form { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
.inline-form > div { flex: 1 1 240px; }
@media (max-width: 720px) {
  main { padding: 10px; }
  .grid2 { grid-template-columns: minmax(0, 1fr); }
  table.list thead { display: none; }
  table.list, table.list tbody, table.list tr, table.list td { display: block; width: 100%; }
  table.list tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.list td { border: 0; padding: 2px 10px; }
  table.list td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: 0.8rem; }
  dl.kv { grid-template-columns: minmax(0, 1fr); }
  dl.kv dt { margin-top: 6px; }
}
`;
