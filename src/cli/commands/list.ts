// `ingest-mail list`: staged mail, newest first, for the admin fixing what failed.
import { listStagedFiltered } from "../../store/queries/list-queries.js";
import { makeDeps, printJson } from "../context.js";
import { listFilter, shownLine, type ListOptions } from "../list-options.js";
import { colours, table, terminalSafe } from "../output.js";

export async function run(opts: ListOptions & { status?: string }): Promise<void> {
  const deps = await makeDeps(opts);
  const { rows, total } = await listStagedFiltered(deps.db, { ...listFilter(opts, deps.now()), status: opts.status });
  // A record still new / in_process / workflow after the recover threshold was left by a crash.
  const stuckBefore = new Date(deps.now().getTime() - deps.config.recoverAfterMinutes * 60_000).toISOString();
  const withStuck = rows.map((r) => ({ ...r, stuck: ["new", "in_process", "workflow"].includes(r.status) && r.updatedAt < stuckBefore }));
  if (opts.json) return printJson({ staged: withStuck, total, shown: rows.length });
  if (!rows.length) return void process.stdout.write("no staged mail\n");
  const c = colours();
  const paint: Record<string, (s: string) => string> = { complete: c.green, error: c.red, invalid: c.yellow, held: c.yellow, spam: c.yellow, ignored: c.gray, duplicate: c.gray };
  const out = table(
    ["ID", "RECEIVED", "STATUS", "FROM", "SUBJECT", "NOTE"],
    withStuck.map((r) => [
      String(r.id),
      r.receivedAt.replace("T", " ").slice(0, 19),
      (paint[r.status] ?? c.cyan)(r.status + (r.stuck ? " (stuck)" : "")),
      terminalSafe(r.fromAddress),
      r.subject ? terminalSafe(r.subject).slice(0, 50) : c.dim("(no subject)"),
      terminalSafe(r.error ?? r.reason ?? (r.duplicateOf ? `duplicate of ${r.duplicateOf}` : "")).slice(0, 60),
    ]),
  );
  process.stdout.write(`${out}\n${shownLine(rows.length, total)}\n`);
}
