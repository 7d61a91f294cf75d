// The web console at size (issue 15 §4): a database of 1,000,000 staged mails (BENCH_WEB_ROWS), then
// the server time of the list page, a status filter, a sender filter and text searches, measured
// in process through the application's fetch handler (routing, queries and rendering; no socket).
// Target: under 200 ms each. `npm run bench:web` runs only this; `npm run bench` includes it.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultConfig } from "../src/config.js";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import type { Deps } from "../src/pipeline/deps.js";
import { createApp } from "../src/web/app.js";
import { median, ms, percentile, tempDir } from "./measure.js";

const ROWS = Number(process.env.BENCH_WEB_ROWS ?? 1_000_000);
const SENDERS = 50_000;
const START = "2025-01-01T00:00:00Z";
const WORDS = "order parcel invoice refund kettle delivery broken account password login payment late missing damaged return address change cancel subscription warranty".split(" ");

/** A small deterministic generator, so every run builds the same database. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

// 95% complete, the rest spread as a busy system sees it.
const STATUS_WEIGHTS: [string, number][] = [
  ["complete", 0.95],
  ["duplicate", 0.02],
  ["error", 0.01],
  ["invalid", 0.01],
  ["held", 0.005],
  ["new", 0.005],
];

/** Bulk INSERT in one transaction, the secondary indexes built afterwards (one sorted pass each). */
export function buildDatabase(path: string, rows: number): { ms: number } {
  const started = performance.now();
  // Built through the SQLite driver itself: a bulk load of a million rows is engine work, not the store's.
  const db = openSqliteStore(path, { busyTimeoutMs: 10_000 });
  const c = db.client;
  c.pragma("synchronous = OFF");
  c.pragma("cache_size = -200000");
  const indexes = (c.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'staged_mails' AND sql IS NOT NULL`).all() as { name: string; sql: string }[]);
  for (const i of indexes) c.exec(`DROP INDEX ${i.name}`);
  const insert = c.prepare(`INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, raw, message_id, from_address, from_name, to_addresses,
    subject, headers, text_body, reason, error, trace, attempts, interaction_id) VALUES (?, ?, ?, 'stdin', ?, ?, NULL, ?, ?, ?, 'service@example.test', ?, ?, ?, ?, ?, NULL, 1, ?)`);
  // One issue per five mails with three actions each: the newest 60% of the mails are recorded on
  // actions, which hold their text (issue 9.3: the record's own text is dropped once processed).
  const issues = Math.floor(rows / 5);
  const firstLinked = rows - 3 * issues + 1;
  const rand = rng(42);
  const start = Date.parse(START);
  const word = () => WORDS[Math.floor(rand() * WORDS.length)];
  c.transaction(() => {
    for (let i = 1; i <= rows; i++) {
      let r = rand();
      let status = "complete";
      for (const [s, w] of STATUS_WEIGHTS) if ((r -= w) < 0) ((status = s), (r = 2));
      const at = new Date(start + i * 30_000).toISOString();
      const sender = Math.floor(rand() * SENDERS);
      const subject = status === "invalid" ? null : `${word()} ${word()} ${i % 997 === 0 ? "zebra" : word()} #${i}`;
      const body = Array.from({ length: 40 }, word).join(" ");
      const linked = i >= firstLinked;
      insert.run(at, at, status, `hash${i}`, 900 + (i % 3000), `<m${i}@customer.example>`, `user${sender}@customer${sender % 1000}.example`, `Customer ${sender}`, subject, `From: user${sender}@x\nSubject: ${subject ?? ""}\n`, linked ? null : body, status === "invalid" ? "the message has no subject" : null, status === "error" ? "boom" : null, linked ? i : null);
    }
  })();
  // The issues spread over kinds, states, queues and assignees; one assignee is rare (1 in 5,000).
  const issueIndexes = c.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('issues', 'actions') AND sql IS NOT NULL`).all() as { name: string; sql: string }[];
  for (const i of issueIndexes) c.exec(`DROP INDEX ${i.name}`);
  const insIssue = c.prepare(`INSERT INTO issues (id, guid, reference, kind, state, queue, assignee, user_identification_id, subject, open_date, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insInteraction = c.prepare(`INSERT INTO interactions (id, user_identification_id, staged_mail_id, interaction_date, originator, type, headers) VALUES (?, ?, ?, ?, 'customer', 'email', '')`);
  const insAction = c.prepare(`INSERT INTO actions (issue_id, interaction_id, details, created_at) VALUES (?, ?, ?, ?)`);
  const states = ["todo", "todo", "in_progress", "waiting", "resolved", "closed", "closed", "closed"];
  c.transaction(() => {
    for (let n = 1; n <= issues; n++) {
      const at = new Date(start + n * 150_000).toISOString();
      const kind = n % 20 === 0 ? "action" : n % 7 === 0 ? "case" : "ticket";
      const assignee = n % 5000 === 0 ? "agent-rare" : `agent-${n % 50}`;
      insIssue.run(n, `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, `CS-${String(n).padStart(6, "0")}`, kind, states[n % states.length], `queue-${n % 10}`, assignee, n % SENDERS, `${word()} ${word()} #${n}`, at, at);
      for (let k = 0; k < 3; k++) {
        const staged = firstLinked + (n - 1) * 3 + k;
        insInteraction.run(staged, n % SENDERS, staged, at);
        insAction.run(n, staged, Array.from({ length: 40 }, word).join(" "), at);
      }
    }
  })();
  for (const i of [...indexes, ...issueIndexes]) c.exec(i.sql);
  c.exec("ANALYZE");
  c.close();
  return { ms: performance.now() - started };
}

export async function run(): Promise<string> {
  const dir = tempDir("web");
  const path = join(dir, "web.db");
  const built = buildDatabase(path, ROWS);
  const db = openSqliteStore(path, { busyTimeoutMs: 10_000 });
  const deps: Deps = {
    db,
    store: db,
    config: defaultConfig,
    paths: { db: path, attachmentsDir: join(dir, "attachments"), spoolDir: join(dir, "spool") },
    now: () => new Date(),
    newGuid: () => "00000000-0000-4000-8000-000000000000",
    log: () => {},
    mailer: () => Promise.reject(new Error("no mail in the bench")),
    hostname: "bench.example",
  };
  // As served: the first page counts per status over the index, later pages follow the history.
  const { app, ctx } = createApp(deps, { passwordHash: null, allowedHosts: null });
  const c0 = performance.now();
  await ctx.counts();
  const firstCount = performance.now() - c0;
  const cookie = await sessionCookie(app);
  const time = async (url: string): Promise<{ median: number; p95: number; note: string }> => {
    const runs: number[] = [];
    let note = "";
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const res = await app.request(url, { headers: { cookie } });
      const text = await res.text();
      runs.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      const rowsShown = (text.match(/<tr><td class="num" data-label="(ID|Reference)">|<article class="msg"/g) ?? []).length;
      const stopped = /below id (\d+)/.exec(text);
      note = `${rowsShown ? `${rowsShown} rows` : ""}${stopped ? `, scan stopped at its time budget after ${(ROWS - Number(stopped[1])).toLocaleString("en")} mails` : ""}`;
    }
    const warm = runs.slice(2);
    return { median: median(warm), p95: percentile(warm, 95), note };
  };
  const oldest = Math.floor(ROWS / 2);
  const day = new Date(Date.parse(START) + oldest * 30_000).toISOString().slice(0, 10);
  const cases: [string, string][] = [
    ["list page (newest 50, counts per status)", "/"],
    ["list page, keyset page in the middle", `/?before=${oldest}`],
    ["status filter (error)", "/?status=error"],
    ["status filter (held), page in the middle", `/?status=held&before=${oldest}`],
    ["sender filter (exact address)", "/?sender=user123@customer123.example"],
    ["Message-ID filter", `/?mid=m${oldest}@customer.example`],
    ["date filter (one day)", `/?since=${day}&until=${day}`],
    ["text search, frequent word", "/?q=kettle"],
    ["text search, rare word (1 in 997)", "/?q=zebra"],
    ["text search, no match at all", "/?q=nothing-like-this"],
    ["subject filter + status", "/?status=error&subject=refund"],
    ["one staged mail (text on its action)", `/staged/${ROWS - 10}`],
    [`issue list (${Math.floor(ROWS / 5).toLocaleString("en")} issues, 3 actions each)`, "/issues"],
    ["issues by state (waiting)", "/issues?state=waiting"],
    ["issues by kind (action)", "/issues?kind=action"],
    ["issues by a rare assignee", "/issues?assignee=agent-rare"],
    ["one issue with its conversation", `/issues/${Math.floor(ROWS / 10)}`],
  ];
  const lines = [
    `web console, ${ROWS.toLocaleString("en")} staged mails (built in ${(built.ms / 1000).toFixed(1)} s), server time per request, median (p95) of 5 after 2 warm-ups; target < 200 ms`,
    `  at start, before serving: counts per status over the status index  ${ms(firstCount)}`,
  ];
  for (const [name, url] of cases) {
    const r = await time(url);
    lines.push(`  ${name.padEnd(44)} ${ms(r.median).padStart(9)} (${ms(r.p95)})   ${r.note}`);
  }
  await db.close();
  return lines.join("\n");
}

async function sessionCookie(app: ReturnType<typeof createApp>["app"]): Promise<string> {
  const res = await app.request("/outbox");
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  run().then(
    (out) => process.stdout.write(`${out}\n`),
    (e) => {
      process.stderr.write(`bench:web: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
