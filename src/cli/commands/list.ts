// `ingest-mail list`: staged mail, newest first, for the admin fixing what failed.
import { listStaged } from "../../db/queries.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { colours, table } from "../output.js";
import { safe } from "../terminal-safe.js";

export async function run(opts: CommonOptions & { status?: string; limit: number }): Promise<void> {
  const deps = makeDeps(opts);
  const rows = listStaged(deps.db, { status: opts.status, limit: opts.limit });
  // A record still new / in_process / workflow after the recover threshold was left by a crash.
  const stuckBefore = new Date(deps.now().getTime() - deps.config.recoverAfterMinutes * 60_000).toISOString();
  const withStuck = rows.map((r) => ({ ...r, stuck: ["new", "in_process", "workflow"].includes(r.status) && r.updatedAt < stuckBefore }));
  if (opts.json) return printJson({ staged: withStuck });
  if (!rows.length) return void process.stdout.write("no staged mail\n");
  const c = colours();
  const paint: Record<string, (s: string) => string> = { complete: c.green, error: c.red, invalid: c.yellow, held: c.yellow, spam: c.yellow, ignored: c.gray, duplicate: c.gray };
  const out = table(
    ["ID", "RECEIVED", "STATUS", "FROM", "SUBJECT", "NOTE"],
    withStuck.map((r) => [
      String(r.id),
      r.receivedAt.replace("T", " ").slice(0, 19),
      (paint[r.status] ?? c.cyan)(r.status + (r.stuck ? " (stuck)" : "")),
      safe(r.fromAddress),
      r.subject ? safe(r.subject.slice(0, 50)) : c.dim("(no subject)"),
      safe((r.error ?? r.reason ?? (r.duplicateOf ? `duplicate of ${r.duplicateOf}` : "")).slice(0, 60)),
    ]),
  );
  process.stdout.write(`${out}\n`);
}
