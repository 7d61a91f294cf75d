// `ingest-mail purge`: retention (--older-than, or the configured `retention`) and erasure of one
// person (--email). The work is in src/maintenance/purge.ts; this reads the options and prints.
import { UsageError } from "../../errors.js";
import { DEFAULT_PURGE_STATUSES, PURGEABLE, purgeByAge, purgeByEmail, purgeOnce, type PurgeReport } from "../../maintenance/purge.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { table } from "../output.js";
import { ageMs } from "../time-args.js";

export interface PurgeOptions extends CommonOptions {
  olderThan?: string;
  status?: string[];
  keepText?: boolean;
  email?: string;
  dryRun?: boolean;
}

export async function run(opts: PurgeOptions): Promise<void> {
  if (opts.email !== undefined && (opts.olderThan !== undefined || opts.status || opts.keepText)) throw new UsageError("--email erases one person; it does not combine with --older-than, --status or --keep-text");
  for (const s of opts.status ?? []) if (!(PURGEABLE as readonly string[]).includes(s)) throw new UsageError(`--status ${s}: only ${PURGEABLE.join(", ")} can be purged`);
  const deps = await makeDeps(opts);
  const dryRun = opts.dryRun ?? false;
  let out: PurgeReport & Record<string, unknown>;
  if (opts.email !== undefined) {
    const email = opts.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError(`--email "${opts.email}" is not an email address`);
    out = { email, ...(await purgeByEmail(deps, email, dryRun)) };
  } else if (opts.olderThan !== undefined) {
    const before = new Date(deps.now().getTime() - ageMs(opts.olderThan)!).toISOString();
    const statuses = opts.status?.length ? opts.status : DEFAULT_PURGE_STATUSES;
    out = { before, statuses, keepText: opts.keepText ?? false, ...(await purgeByAge(deps, { before, statuses, keepText: opts.keepText ?? false, dryRun })) };
  } else {
    const retention = deps.config.retention;
    if (!retention) throw new UsageError("give --older-than AGE or --email ADDRESS (or set retention in the configuration)");
    if (dryRun) {
      const before = new Date(deps.now().getTime() - retention.olderThanDays * 86_400_000).toISOString();
      const statuses = retention.statuses ?? DEFAULT_PURGE_STATUSES;
      out = { before, statuses, keepText: retention.keepText ?? false, ...(await purgeByAge(deps, { before, statuses, keepText: retention.keepText ?? false, dryRun })) };
    } else out = { statuses: retention.statuses ?? DEFAULT_PURGE_STATUSES, keepText: retention.keepText ?? false, ...(await purgeOnce(deps, retention)) };
  }
  if (opts.json) return printJson(out);
  const what = out.email ? `erased ${out.email}` : `purged staged mail received before ${out.before} (${(out.statuses as string[]).join(", ")})${out.keepText ? ", conversation text kept" : ""}`;
  const rows = Object.entries(out.removed).map(([k, n]) => [k, String(n)]);
  rows.push(["files", `${out.files.removed} (${out.files.bytes} bytes)`]);
  process.stdout.write(`${dryRun ? `dry run, nothing removed: ${what}` : what}\n${table(["REMOVED", dryRun ? "WOULD BE" : "COUNT"], rows)}\n`);
  if (out.checkpoint === "busy") process.stderr.write("ingest-mail: another process holds the database open; erased pages may stay in the WAL file until it is checkpointed (run purge again when idle)\n");
}
