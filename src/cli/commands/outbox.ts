// `ingest-mail outbox list`: every mail this system sent or tried to send.
import { listOutbound } from "../../db/queries.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { colours, table } from "../output.js";
import { safe } from "../terminal-safe.js";

export async function list(opts: CommonOptions): Promise<void> {
  const deps = makeDeps(opts);
  const rows = listOutbound(deps.db);
  if (opts.json) return printJson({ outbound: rows });
  if (!rows.length) return void process.stdout.write("no outgoing mail\n");
  const c = colours();
  const out = table(
    ["ID", "CREATED", "KIND", "STATUS", "TO", "SUBJECT", "ERROR"],
    rows.map((r) => [String(r.id), r.createdAt.replace("T", " ").slice(0, 19), r.kind, (r.status === "sent" ? c.green : r.status === "failed" ? c.red : c.yellow)(r.status), safe(r.toAddress), safe(r.subject.slice(0, 50)), safe(r.error)]),
  );
  process.stdout.write(`${out}\n`);
}
