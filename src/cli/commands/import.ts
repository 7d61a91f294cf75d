// `ingest-mail import PATH...`: bulk import and replay. One process for all the messages; each goes
// through the same pipeline and staging as mail on stdin (source "import"), so a message imported
// twice, or one that also arrived by the MTA, is recognised as a duplicate (domain.md §1.7).
// The database is opened with synchronous=NORMAL and spool files are not fsynced: the source files
// remain, so a crash loses nothing that running the same import again does not restore.
import { isStorageFault, TempFailError } from "../../errors.js";
import { ingest } from "../../pipeline/ingest.js";
import { expandPaths, messagesOf } from "../../sources/files.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { progressBar } from "../progress.js";

export interface ImportSummary {
  messages: number;
  counts: Record<string, number>;
  failed: { source: string; error: string }[];
  skipped: string[];
  seconds: number;
  messagesPerSecond: number;
  /** CPU time the import used (user + system); on a busy machine far below `seconds`. */
  cpuSeconds: number;
}

export async function run(paths: string[], opts: CommonOptions): Promise<void> {
  const { items, skipped } = expandPaths(paths);
  const deps = makeDeps({ ...opts, synchronous: "NORMAL" });
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const progress = progressBar(process.stderr, items.reduce((n, i) => n + i.size, 0), "import");
  const counts: Record<string, number> = {};
  const failed: ImportSummary["failed"] = [];
  let messages = 0;
  let storageDown = false;
  try {
    for (const item of items) {
      if (storageDown) break;
      try {
        for await (const msg of messagesOf(item)) {
          try {
            const outcome = await ingest(deps, msg.input, { recipient: null, sender: null }, { source: "import", durable: false });
            counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
            messages += 1;
          } catch (e) {
            failed.push({ source: msg.label, error: (e as Error).message });
            // The database or the disk refused: the next message would fail the same way.
            if (isStorageFault(e)) {
              storageDown = true;
              break;
            }
          } finally {
            progress.tick(msg.bytes, 1);
          }
        }
      } catch (e) {
        // The source itself could not be read (permissions, not an mbox): the others go on.
        failed.push({ source: item.path, error: (e as Error).message });
      }
    }
  } finally {
    progress.done();
    deps.db.$client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const summary: ImportSummary = {
    messages,
    counts,
    failed,
    skipped,
    seconds: round(seconds),
    messagesPerSecond: Math.round(messages / Math.max(seconds, 0.001)),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6),
  };
  if (opts.json) printJson(summary);
  else process.stdout.write(`${describe(summary)}\n`);
  for (const f of failed) process.stderr.write(`ingest-mail: not stored: ${f.source}: ${f.error}\n`);
  if (failed.length) {
    throw new TempFailError(
      `${failed.length} ${failed.length === 1 ? "source" : "sources"} could not be stored${storageDown ? " (the database or disk refused; the import stopped there)" : ""}; ` +
        "run the same import again once fixed: what is stored already comes back as duplicate",
    );
  }
}

export function describe(s: ImportSummary): string {
  const per = Object.entries(s.counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([status, n]) => `${status} ${n}`)
    .join(", ");
  const lines = [`imported ${s.messages} ${s.messages === 1 ? "message" : "messages"} in ${s.seconds} s (${s.messagesPerSecond}/s)${per ? `: ${per}` : ""}`];
  if (s.skipped.length) lines.push(`skipped ${s.skipped.length} ${s.skipped.length === 1 ? "file" : "files"} that are not .eml, .mbox or in a Maildir (first: ${s.skipped[0]})`);
  if (s.failed.length) lines.push(`${s.failed.length} not stored (see stderr)`);
  return lines.join("\n");
}

const round = (n: number) => Math.round(n * 100) / 100;
