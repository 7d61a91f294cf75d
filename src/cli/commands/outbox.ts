// `ingest-mail outbox list`: every mail this system sent or tried to send.
import { listOutbound, type OutboundMail } from "../../db/queries.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { colours, table } from "../output.js";

export async function list(opts: CommonOptions): Promise<void> {
  const deps = makeDeps(opts);
  const rows = listOutbound(deps.db);
  if (opts.json) return printJson({ outbound: rows });
  if (!rows.length) return void process.stdout.write("no outgoing mail\n");
  const c = colours();
  const out = table(
    ["ID", "CREATED", "KIND", "STATUS", "TO", "SUBJECT", "ERROR"],
    rows.map((r) => [String(r.id), r.createdAt.replace("T", " ").slice(0, 19), r.kind, (r.status === "sent" ? c.green : r.status === "failed" || r.status === "bounced" ? c.red : c.yellow)(r.status), r.toAddress, r.subject.slice(0, 50), problem(r)]),
  );
  process.stdout.write(`${out}\n`);
}

/** issue 13: a bounced row shows the DSN status and diagnostic (cleaned of control characters when read). */
function problem(r: OutboundMail): string {
  if (r.status !== "bounced") return r.error ?? "";
  return [r.bounceStatus, r.bounceDiagnostic].filter(Boolean).join(" ").slice(0, 120);
}
