// `ingest-mail import PATH...`: bulk import and replay. One process for all the messages; each goes
// through the same pipeline and staging as mail on stdin (source "import"), so a message imported
// twice, or one that also arrived by the MTA, is recognised as a duplicate (domain.md §1.7).
// Staging commits and spool files are not fsynced (durable: false): the source files
// remain, so a crash loses nothing that running the same import again does not restore.
import { isStorageFault, LateUnitFailure, TempFailError, UsageError } from "../../errors.js";
import { discardPrepared, ingestRaw, prepare, prepareSettings, type Prepared } from "../../pipeline/ingest.js";
import { defaultWorkers, PreparePool } from "../../pipeline/prepare-pool.js";
import { aheadKeys, readEarly, stillHolds, type AheadKeys, type ReadAhead } from "../../pipeline/read-ahead.js";
import { expandPaths, messagesOf, type Skipped } from "../../sources/files.js";
import type { Db } from "../../store/store.js";
import { safe } from "../../terminal-safe.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { progressBar } from "../progress.js";

export interface ImportSummary {
  messages: number;
  counts: Record<string, number>;
  failed: { source: string; error: string }[];
  /** Files not taken, each with the reason (not a mail file name, a link, a FIFO, empty...). */
  /** The paths skipped, as before skippedReasons (a field scripts read: kept as it was). */
  skipped: string[];
  /** Each skipped path with why. */
  skippedReasons: Skipped[];
  seconds: number;
  messagesPerSecond: number;
  /** CPU time the import used (user + system), all threads. */
  cpuSeconds: number;
  /** Worker threads that read and parsed ahead of the main thread (0: all on the main thread). */
  workers: number;
  /**
   * Batches rolled back and run again, each mail confirmed, after a failure found once its mail's
   * unit had ended (PostgreSQL: a mail the database refused, or a key another writer took meanwhile).
   */
  batchesRunAgain: number;
}

// Messages committed together: one commit per message costs more than the message's own work
// (bench: +45% msg/s at 100). A failure rolls back only the open batch, which is reported as not
// stored, and importing the same paths again restores it (what was stored comes back as duplicate).
const BATCH = 100;

// Messages read and parsed ahead of the one being stored, when worker threads do the parsing; and
// at most this many bytes of them, so a folder of large mails does not pile up in memory.
const AHEAD = 64;
const AHEAD_BYTES = 16 * 1024 * 1024;

// Each worker is a thread with its own heap and a copy of the parser (tens of MB); past a few the
// main thread's database work is the limit anyway (defaultWorkers takes at most 3).
export const MAX_WORKERS = 64;

interface Queued {
  label: string;
  bytes: number;
  prepared: Promise<Prepared>;
  /** Staged a second time, with its batch (a LateUnitFailure). */
  again?: boolean;
}

/**
 * A message to stage again after its batch was rolled back: parsed again from its raw bytes, as
 * its attachment files may be gone (on PostgreSQL they go once the database holds their bytes).
 */
const toStageAgain = (q: Queued): Queued => ({ ...q, again: true, prepared: q.prepared.then(({ raw }) => ({ raw })) });

/** Thrown inside a batch to roll it back: one of its mails met a storage fault. */
class BatchAborted extends Error {}

export async function run(paths: string[], opts: CommonOptions & { workers?: number; sendConfirmations?: boolean }): Promise<void> {
  if (opts.workers !== undefined && opts.workers > MAX_WORKERS) throw new UsageError(`--workers must be at most ${MAX_WORKERS}, got ${opts.workers}`);
  const { items, skipped, unreadable } = expandPaths(paths);
  const deps = await makeDeps(opts, process.env, undefined, { create: true });
  const settings = prepareSettings(deps, { durable: false });
  const pool = new PreparePool(settings, opts.workers ?? defaultWorkers());
  const workers = pool.threads;
  const ahead = workers ? AHEAD : 1;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const progress = progressBar(process.stderr, items.reduce((n, i) => n + i.size, 0), "import");
  const counts: Record<string, number> = {};
  // A folder or file that cannot be read is that source's problem: the others are imported.
  const failed: ImportSummary["failed"] = [...unreadable];
  let messages = 0;
  let runAgain = 0;
  let storageDown = false;
  // The import stopped early (a storage fault, a failed commit): read nothing more.
  let stopped = false;
  // The open batch: rolled back together, and then their files (attachments, spool) go too.
  let batch: { label: string; status: string; prepared: Prepared }[] = [];
  // The messages of the open batch staged or being staged, in order: what runs again after a
  // LateUnitFailure (below).
  let attempted: Queued[] = [];
  // Outbound mail of the open batch: sent only after it commits, never under the write lock (issue 9.8).
  let sends: (() => Promise<void>)[] = [];
  const committed = async () => {
    for (const b of batch) counts[b.status] = (counts[b.status] ?? 0) + 1;
    messages += batch.length;
    batch = [];
    attempted = [];
    const pending = sends;
    sends = [];
    for (const send of pending) await send();
  };
  const rolledBack = (error: string) => {
    sends = [];
    attempted = [];
    for (const b of batch) {
      discardPrepared(b.prepared);
      failed.push({ source: b.label, error: `rolled back with its batch: ${error}` });
    }
    batch = [];
  };

  // Reads and parses ahead (on the worker threads), and hands the messages over in the order of the
  // sources, whatever order the workers finish in.
  async function* inOrder(): AsyncGenerator<Queued> {
    const queue: Queued[] = [];
    let queuedBytes = 0;
    const oldest = () => {
      const q = queue.shift()!;
      queuedBytes -= q.bytes;
      return q;
    };
    for (const item of items) {
      if (stopped) break;
      try {
        for await (const msg of messagesOf(item, deps.config.limits.maxMessageBytes)) {
          if (stopped) break;
          let prepared: Promise<Prepared>;
          if (msg.file) prepared = pool.prepare({ file: msg.file });
          else if (msg.buffer && msg.buffer.length <= settings.inlineMaxBytes) prepared = pool.prepare({ bytes: msg.buffer });
          else {
            // A large message streams from its file to the spool on this thread: first store what
            // is queued before it, so the order holds.
            while (queue.length) yield oldest();
            prepared = prepare(msg.input, settings);
          }
          prepared.catch(() => {}); // handled in order, by stageOne
          queue.push({ label: msg.label, bytes: msg.bytes, prepared });
          queuedBytes += msg.bytes;
          if (queue.length >= ahead || queuedBytes > AHEAD_BYTES) {
            // Drained to half before reading ahead again: the workers then get their requests
            // (8 to a postMessage) four batches back to back and parse them without going to sleep
            // in between, instead of one batch every eighth message taken (docs/store.md).
            while (queue.length > ahead / 2 || queuedBytes > AHEAD_BYTES / 2) yield oldest();
          }
        }
      } catch (e) {
        // The source itself could not be read (permissions, not an mbox): the others go on.
        failed.push({ source: item.path, error: (e as Error).message });
      }
    }
    while (queue.length) yield oldest();
  }

  // Stages and processes one message in the batch's transaction, in a savepoint of its own (a
  // message that fails takes back only its own work). Sets storageDown when the store refused.
  let storageError = "";
  // The next message's reads, sent early (PostgreSQL): they run before the message staged meanwhile
  // (`after`) writes anything, so they hold for `q` only where that one shares none of their keys.
  let carried: { q: Queued; tx: Db; ahead: ReadAhead; after: AheadKeys | null } | null = null;
  /**
   * `confirmed`: the next message waits until this one's statements are known to have succeeded.
   * Otherwise (PostgreSQL: one round trip a message fewer) a failure found later is a
   * LateUnitFailure, thrown from here to run the batch again, each message confirmed.
   */
  const stageOne = async (tx: Db, q: Queued, confirmed: boolean, next: Queued | null = null) => {
    let prepared: Prepared | undefined;
    attempted.push(q);
    if (!q.again) progress.tick(q.bytes, 1);
    try {
      prepared = await q.prepared;
      const { raw, parsed } = prepared;
      const mine = parsed ? aheadKeys(raw, parsed) : null;
      const early = carried?.q === q && carried.tx === tx && mine && stillHolds(mine, carried.after) ? carried.ahead : undefined;
      carried = null;
      // The next message's reads go now, outside this message's unit, and are answered while it
      // is processed: neither the server nor this thread waits for the other (docs/store.md).
      const upcoming = !confirmed && next ? await next.prepared.catch(() => undefined) : undefined;
      if (next && upcoming?.parsed && !upcoming.raw.path) {
        const ahead = readEarly(tx, upcoming.raw, upcoming.parsed);
        if (ahead) carried = { q: next, tx, ahead, after: mine };
      }
      const outcome = await tx.write(
        (sp) =>
          ingestRaw({ ...deps, db: sp }, raw, { recipient: null, sender: null }, {
            source: "import",
            durable: false,
            // This savepoint is the mail's unit: a staging that fails fails the mail.
            stageInCallerUnit: true,
            parsed,
            ahead: early,
            sendConfirmations: opts.sendConfirmations ?? false,
            deferOutbound: (send) => void sends.push(send),
          }),
        { unconfirmed: !confirmed },
      );
      batch.push({ label: q.label, status: outcome.status, prepared });
    } catch (e) {
      // An earlier message's failure, found now: this one is staged again with the batch, files and all.
      if (e instanceof LateUnitFailure) throw e;
      attempted.pop();
      // Not staged (ingestRaw throws only then): its files have no record to belong to.
      if (prepared) discardPrepared(prepared);
      failed.push({ source: q.label, error: (e as Error).message });
      // The database or the disk refused: the next message would fail the same way.
      if (isStorageFault(e)) {
        storageDown = true;
        storageError = (e as Error).message;
      }
    }
  };

  const source = inOrder();
  // The next message, looked at before it is taken (its reads go early: stageOne).
  let peeked: Queued | null = null;
  const take = async (): Promise<Queued | null> => {
    const q = peeked ?? (await peek());
    peeked = null;
    return q;
  };
  const peek = async (): Promise<Queued | null> => {
    if (!peeked) {
      const n = await source.next();
      peeked = n.done ? null : n.value;
    }
    return peeked;
  };
  try {
    // The message read but not yet staged: read before its batch's transaction begins.
    let pending: Queued | null = null;
    // A batch rolled back by a LateUnitFailure, to run again with each message confirmed; `careful`
    // holds those of it not yet staged again.
    let replay: Queued[] = [];
    let careful: Queued[] = [];
    try {
      pending = await take();
      while (pending || replay.length) {
        careful = replay;
        replay = [];
        const replaying = careful.length > 0;
        try {
          // Ids drawn ahead (PostgreSQL): a mail's issue and interaction cost no round trip of their own.
          await deps.db.write(async (tx) => {
            for (let q = careful.shift(); q; q = careful.shift()) {
              await stageOne(tx, q, true);
              if (storageDown) throw new BatchAborted(storageError);
            }
            if (replaying) return;
            while (pending) {
              const q = pending;
              pending = null;
              // A message spooled to a file is a batch of its own, confirmed: on PostgreSQL the file
              // goes once the database holds its bytes, so a batch run again could not stage it.
              const spooled = Boolean((await q.prepared.catch(() => undefined))?.raw.path);
              if (spooled && attempted.length) {
                pending = q;
                return;
              }
              // The next message, when this transaction will stage it too.
              const next = !spooled && tx.early && batch.length + 1 < BATCH ? await peek() : null;
              await stageOne(tx, q, spooled, next);
              if (storageDown) throw new BatchAborted(storageError);
              if (batch.length >= BATCH || spooled) return;
              pending = await take();
            }
          }, { batch: true });
        } catch (e) {
          if (!(e instanceof LateUnitFailure) || replaying) throw e;
          replay = attempted.map(toStageAgain);
          runAgain++;
          batch = [];
          attempted = [];
          sends = [];
          continue;
        }
        await committed();
        pending ??= await take();
      }
    } catch (e) {
      stopped = true;
      rolledBack((e as Error).message);
      // Rolled back with their first batch, and not staged again before the import stopped.
      for (const q of careful) failed.push({ source: q.label, error: `rolled back with its batch: ${(e as Error).message}` });
      if (pending) {
        // The batch's transaction did not begin (the store refused it): that message is not stored.
        const q: Queued = pending;
        const prepared = await q.prepared.catch(() => undefined);
        if (prepared) discardPrepared(prepared);
        failed.push({ source: q.label, error: (e as Error).message });
        storageDown ||= isStorageFault(e);
        progress.tick(q.bytes, 1);
      } else if (!(e instanceof BatchAborted)) failed.push({ source: "(commit)", error: (e as Error).message });
    }
    // Read ahead but not stored (the import stopped): its spool and attachment files go.
    for (let q = await take(); q; q = await take()) {
      const prepared = await q.prepared.catch(() => undefined);
      if (prepared) discardPrepared(prepared);
      progress.tick(q.bytes, 1);
    }
  } finally {
    progress.done();
    await source.return(undefined);
    await pool.close();
    await deps.store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const summary: ImportSummary = {
    messages,
    counts,
    failed,
    skipped: skipped.map((k) => k.path),
    skippedReasons: skipped,
    seconds: round(seconds),
    messagesPerSecond: Math.round(messages / Math.max(seconds, 0.001)),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6),
    workers,
    batchesRunAgain: runAgain,
  };
  if (opts.json) printJson(summary);
  else process.stdout.write(`${describe(summary)}\n`);
  // A file name may hold any byte but NUL and "/": a newline forged a line, ESC drove the terminal
  // (issue 10). The source and its error (which may quote the name again) are shown escaped.
  for (const f of failed) process.stderr.write(`ingest-mail: not stored: ${safe(f.source)}: ${safe(f.error)}\n`);
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
  if (s.skippedReasons.length) {
    const first = s.skippedReasons[0];
    const n = s.skippedReasons.length;
    // The name is escaped (issue 10): it is whatever the folder holds.
    lines.push(`skipped ${n} ${n === 1 ? "file" : "files"} (first: ${safe(first.path)}: ${safe(first.reason)}${n > 1 ? "; --json lists each with its reason" : ""})`);
  }
  if (s.failed.length) lines.push(`${s.failed.length} not stored (see stderr)`);
  return lines.join("\n");
}

const round = (n: number) => Math.round(n * 100) / 100;
