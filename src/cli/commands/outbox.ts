// `ingest-mail outbox list`: every mail this system sent or tried to send; `outbox retry`: send failed mail again.
import { NAMED_IDS, retryNamedCommand } from "../../doctor/checks.js";
import { countFailedOutbound, failedPastLimitIds } from "../../store/queries/doctor-queries.js";
import { listOutboundFiltered } from "../../store/queries/list-queries.js";
import type { OutboundMail } from "../../store/queries/queries.js";
import type { Db } from "../../store/store.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { listFilter, shownLine, type ListOptions } from "../list-options.js";
import { colours, table, terminalSafe } from "../output.js";

export async function list(opts: ListOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const { rows, total } = await listOutboundFiltered(deps.db, listFilter(opts, deps.now()));
  if (opts.json) return printJson({ outbound: rows, total, shown: rows.length });
  if (!rows.length) return void process.stdout.write("no outgoing mail\n");
  const c = colours();
  const out = table(
    ["ID", "CREATED", "KIND", "STATUS", "TO", "SUBJECT", "ERROR"],
    rows.map((r) => [
      String(r.id),
      r.createdAt.replace("T", " ").slice(0, 19),
      r.kind,
      (r.status === "sent" ? c.green : r.status === "failed" || r.status === "bounced" ? c.red : c.yellow)(r.status),
      terminalSafe(r.toAddress),
      terminalSafe(r.subject).slice(0, 50),
      terminalSafe(problem(r)),
    ]),
  );
  process.stdout.write(`${out}\n${shownLine(rows.length, total)}\n`);
}

/** issue 13: a bounced row shows the DSN status and diagnostic (cleaned of control characters when read). */
function problem(r: OutboundMail): string {
  if (r.status !== "bounced") return r.error ?? "";
  return [r.bounceStatus, r.bounceDiagnostic].filter(Boolean).join(" ").slice(0, 120);
}

/** `ingest-mail outbox retry [ID...]`: send failed mail again now, with the current configuration (issue 9.8). */
export async function retry(ids: number[], opts: CommonOptions): Promise<void> {
  const deps = await makeDeps(opts);
  try {
    const { retryOutbox } = await import("../../pipeline/outbound.js");
    const results = await retryOutbox(deps, ids);
    if (opts.json) return printJson({ retried: results });
    if (!results.length) return void process.stdout.write(`${await nothingToRetry(deps.db, deps.config.limits.outboxMaxAttempts)}\n`);
    process.stdout.write(`${results.map((r) => `${r.messageId} to ${r.to}: ${r.status}${r.error ? ` (${r.error})` : ""}`).join("\n")}\n`);
  } finally {
    await deps.store.close();
  }
}

/**
 * Nothing was sent: say so, unless failed mail is waiting past the retry limit, which `outbox retry`
 * without ids never sends (the long-running modes gave up on it): then how to send it, in one line.
 */
async function nothingToRetry(db: Db, maxAttempts: number): Promise<string> {
  const { gaveUp } = await countFailedOutbound(db, maxAttempts);
  if (!gaveUp) return "no failed outgoing mail to retry";
  const ids = await failedPastLimitIds(db, maxAttempts, NAMED_IDS);
  return `${gaveUp} failed outgoing mail(s) past the retry limit (limits.outboxMaxAttempts ${maxAttempts}), sent only when named: ${retryNamedCommand(gaveUp, ids)}`;
}
