// `ingest-mail import PATH...`: bulk import and replay. One process for all the messages; each goes
// through the same pipeline and staging as mail on stdin (source "import"), so a message imported
// twice, or one that also arrived by the MTA, is recognised as a duplicate (domain.md §1.7).
// Staging commits and spool files are not fsynced (durable: false): the source files
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

// Messages committed together: one commit per message costs more than the message's own work
// (bench: +45% msg/s at 100). A failure rolls back only the open batch, which is reported as not
// stored, and importing the same paths again restores it (what was stored comes back as duplicate).
const BATCH = 100;

export async function run(paths: string[], opts: CommonOptions): Promise<void> {
  const { items, skipped } = expandPaths(paths);
  const deps = makeDeps(opts);
  const client = deps.db.$client;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const progress = progressBar(process.stderr, items.reduce((n, i) => n + i.size, 0), "import");
  const counts: Record<string, number> = {};
  const failed: ImportSummary["failed"] = [];
  let messages = 0;
  let storageDown = false;
  let batch: { label: string; status: string }[] = [];
  const commit = () => {
    if (client.inTransaction) client.exec("COMMIT");
    for (const b of batch) counts[b.status] = (counts[b.status] ?? 0) + 1;
    messages += batch.length;
    batch = [];
  };
  const rollback = (error: string) => {
    if (client.inTransaction) client.exec("ROLLBACK");
    for (const b of batch) failed.push({ source: b.label, error: `rolled back with its batch: ${error}` });
    batch = [];
  };
  try {
    for (const item of items) {
      if (storageDown) break;
      try {
        for await (const msg of messagesOf(item)) {
          try {
            if (!client.inTransaction) client.exec("BEGIN IMMEDIATE");
            const outcome = await ingest(deps, msg.input, { recipient: null, sender: null }, { source: "import", durable: false });
            batch.push({ label: msg.label, status: outcome.status });
            if (batch.length >= BATCH) commit();
          } catch (e) {
            failed.push({ source: msg.label, error: (e as Error).message });
            // The database or the disk refused: the next message would fail the same way.
            if (isStorageFault(e)) {
              rollback((e as Error).message);
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
    if (!storageDown) commit();
  } catch (e) {
    rollback((e as Error).message);
    failed.push({ source: "(commit)", error: (e as Error).message });
  } finally {
    progress.done();
    client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
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
