// `ingest-mail issue ...`: set up and inspect work items without SQL (domain.md §4).
import { sendersOfActions } from "../../db/conversation-queries.js";
import { issueHistoryOf, recordIssueEvent } from "../../db/history-queries.js";
import { listIssuesFiltered } from "../../db/list-queries.js";
import { issueParticipants, type Participant } from "../../db/participant-queries.js";
import { actionsOfIssue, createIssue, getIdentification, getIssue, identificationEmail, inWriteTx, splitChildrenOf, updateIssue, type Issue } from "../../db/queries.js";
import { notesOfIssue } from "../../db/bounce-queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import type { Deps } from "../../pipeline/deps.js";
import { identifySender } from "../../pipeline/identify.js";
import { checkParent, checkTransition } from "../../rules/transitions.js";
import { osUser } from "../actor.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { conversationLines, historyLines } from "../conversation.js";
import { listFilter, shownLine, type ListOptions } from "../list-options.js";
import { colours, table, terminalSafe } from "../output.js";
import { safe } from "../terminal-safe.js";
import { replyText } from "../../rules/reply-text.js";

function need(deps: Deps, id: number): Issue {
  const issue = getIssue(deps.db, id);
  if (!issue) throw new NotFoundError(`no issue ${id}`);
  return issue;
}

const line = (i: Issue) =>
  `issue ${i.id} ${i.reference} ${i.kind} [${i.state}${i.waitType ? `/${i.waitType}` : ""}]${i.newInfo ? " new-info" : ""}${i.subject ? `: ${terminalSafe(i.subject)}` : ""}`;

/** Refuses a change the work-item rules do not allow (src/rules/transitions.ts). */
function allow(deps: Deps, issue: Issue, state: string, waitType: string | null = null): void {
  const verdict = checkTransition({ ...issue, splitInto: splitChildrenOf(deps.db, issue.id).length }, state, waitType);
  if (!verdict.ok) throw new UsageError(`issue ${issue.id}: ${verdict.reason}`);
}

// issue 13: how someone joined, as `issue show` prints it.
const how = (p: Participant) => (p.joined === "customer" ? "customer" : p.joined === "cc" ? `cc'd on staged mail ${p.stagedMailId}` : `wrote in (staged mail ${p.stagedMailId})`);

export async function show(id: number, opts: CommonOptions & { full?: boolean }): Promise<void> {
  const deps = makeDeps(opts);
  const issue = need(deps, id);
  const participantDetails = issueParticipants(deps.db, id);
  const record = {
    ...issue,
    customerEmail: identificationEmail(deps.db, issue.userIdentificationId),
    participants: participantDetails.map((p) => p.email),
    participantDetails,
    splitChildren: splitChildrenOf(deps.db, id).map((c) => c.id),
    // issue 13: actions recorded before the new text was kept get it worked out now.
    actions: withSenders(deps, id).map((a) => ({ ...a, replyText: a.replyText ?? replyText(a.details) })),
    history: issueHistoryOf(deps.db, id),
    notes: notesOfIssue(deps.db, id),
  };
  if (opts.json) return printJson(record);
  const c = colours();
  // null drops a line; an empty string is a blank line inside a mail's text and stays.
  const kv = (k: string, v: unknown) => (v === null || v === undefined || v === "" ? null : `${c.bold(k.padEnd(14))} ${v}`);
  const out: (string | null)[] = [
    c.bold(line(issue)),
    kv("guid", issue.guid),
    kv("customer", `${safe(record.customerEmail)} (identification ${issue.userIdentificationId})`),
    kv("queue", safe(issue.queue)),
    kv("assignee", safe(issue.assignee)),
    kv("parent", issue.parentId),
    kv("merged into", issue.mergedIntoId),
    kv("split from", issue.splitFromId),
    kv("split into", record.splitChildren.join(", ")),
    kv("converted to", issue.convertedToId),
    kv("follows", issue.followsClosedId ? `closed issue ${issue.followsClosedId}` : null),
    kv("opened", issue.openDate),
    kv("updated", issue.updatedAt),
    c.bold(`participants (${participantDetails.length})`),
    ...participantDetails.map((p) => `  ${terminalSafe(p.email).padEnd(36)} ${how(p)}`),
    ...historyLines(record.history, c),
    // issue 13: the new text of each mail; --full for all of it.
    ...conversationLines(opts.full ? record.actions : record.actions.map((a) => ({ ...a, details: a.replyText })), c),
    opts.full ? null : c.dim("(the new text of each mail; --full for all of it)"),
    record.notes.length ? c.bold(`notes (${record.notes.length})`) : null,
    ...record.notes.map((n) => `  ${n.createdAt}  ${n.kind}  ${terminalSafe(n.text)}`),
  ];
  process.stdout.write(`${out.filter((l) => l !== null).join("\n")}\n`);
}

/** The issue's actions with who wrote each and when (the interaction's date). */
function withSenders(deps: Deps, id: number) {
  const senders = new Map(sendersOfActions(deps.db, id).map((s) => [s.actionId, s]));
  return actionsOfIssue(deps.db, id).map((a) => {
    const s = senders.get(a.id);
    return { ...a, from: s?.from ?? null, fromName: s?.fromName ?? null, date: s?.date ?? a.createdAt };
  });
}

export async function list(opts: ListOptions & { state?: string }): Promise<void> {
  const deps = makeDeps(opts);
  const { rows, total } = listIssuesFiltered(deps.db, { ...listFilter(opts, deps.now()), state: opts.state });
  if (opts.json) return printJson({ issues: rows, total, shown: rows.length });
  if (!rows.length) return void process.stdout.write("no issues\n");
  const out = table(
    ["ID", "REFERENCE", "KIND", "STATE", "QUEUE", "ASSIGNEE", "NEW", "CUSTOMER", "SUBJECT"],
    rows.map((i) => [
      String(i.id),
      i.reference ?? "",
      i.kind,
      i.state + (i.waitType ? `/${i.waitType}` : ""),
      terminalSafe(i.queue),
      terminalSafe(i.assignee),
      i.newInfo ? "yes" : "",
      terminalSafe(i.customerEmail),
      terminalSafe(i.subject).slice(0, 50),
    ]),
  );
  process.stdout.write(`${out}\n${shownLine(rows.length, total)}\n`);
}

export async function create(opts: CommonOptions & { kind: string; parent?: number; email?: string; userIdentification?: number; subject?: string }): Promise<void> {
  if ((opts.email === undefined) === (opts.userIdentification === undefined)) throw new UsageError("give exactly one of --email or --user-identification");
  const deps = makeDeps(opts);
  const issue = inWriteTx(deps.db, () => {
    const parent = opts.parent !== undefined ? need(deps, opts.parent) : null;
    const verdict = checkParent(opts.kind, parent?.kind ?? null);
    if (!verdict.ok) throw new UsageError(verdict.reason);
    let uid = opts.userIdentification;
    if (uid !== undefined && !getIdentification(deps.db, uid)) throw new NotFoundError(`no user identification ${uid}`);
    uid ??= identifySender(deps, opts.email!.trim().toLowerCase(), null).userIdentificationId;
    const at = deps.now().toISOString();
    const made = createIssue(
      deps.db,
      { guid: deps.newGuid().toLowerCase(), kind: opts.kind, state: "todo", parentId: opts.parent ?? null, userIdentificationId: uid, subject: opts.subject ?? null, openDate: at, updatedAt: at },
      deps.config.referencePrefix,
    );
    recordIssueEvent(deps.db, made.id, at, osUser(), "created", `${made.kind} in todo`);
    return made;
  });
  if (opts.json) printJson(issue);
  else process.stdout.write(`${line(issue)}\n`);
}

export async function setState(id: number, state: string, opts: CommonOptions & { waitType?: string }): Promise<void> {
  if (opts.waitType && state !== "waiting") throw new UsageError("--wait-type goes with state waiting");
  const deps = makeDeps(opts);
  const issue = inWriteTx(deps.db, () => {
    const current = need(deps, id);
    allow(deps, current, state, opts.waitType ?? null);
    if (current.state === state && current.waitType === (opts.waitType ?? null)) return current; // nothing changes
    const at = deps.now().toISOString();
    return updateIssue(deps.db, id, {
      state,
      waitType: state === "waiting" ? (opts.waitType ?? null) : null,
      newInfo: state === "waiting" || state === "resolved" || state === "closed" ? false : current.newInfo,
      closedDate: state === "closed" || state === "resolved" ? at : null,
      updatedAt: at,
    }, osUser());
  });
  if (opts.json) printJson(issue);
  else process.stdout.write(`${line(issue)}\n`);
}

function needTicket(deps: Deps, id: number, what: string): Issue {
  const issue = need(deps, id);
  if (issue.kind !== "ticket") throw new UsageError(`issue ${id} is a ${issue.kind}; only tickets can be ${what}`);
  return issue;
}

export async function merge(ids: number[], opts: CommonOptions & { into: number }): Promise<void> {
  if (ids.includes(opts.into)) throw new UsageError("the target cannot be merged into itself");
  const deps = makeDeps(opts);
  const merged = inWriteTx(deps.db, () => {
    const target = needTicket(deps, opts.into, "merge targets");
    if (target.mergedIntoId) throw new UsageError(`issue ${target.id} was itself merged into ${target.mergedIntoId}; merge into that one`);
    const at = deps.now().toISOString();
    const actor = osUser();
    return ids.map((id) => {
      const ticket = needTicket(deps, id, "merged");
      // Re-pointing an earlier merge would silently move mail away from the first target.
      if (ticket.mergedIntoId && ticket.mergedIntoId !== target.id) throw new UsageError(`issue ${id} was already merged into ${ticket.mergedIntoId}`);
      if (ticket.mergedIntoId === target.id) return ticket; // merged already: nothing changes
      allow(deps, ticket, "closed"); // a converted or split ticket stays as it is
      recordIssueEvent(deps.db, target.id, at, actor, "merged_from", String(id));
      return updateIssue(deps.db, id, { mergedIntoId: target.id, state: "closed", closedDate: at, updatedAt: at }, actor);
    });
  });
  if (opts.json) printJson({ target: opts.into, merged });
  else process.stdout.write(`merged ${merged.map((m) => m.reference).join(", ")} into issue ${opts.into}\n`);
}

export async function split(id: number, opts: CommonOptions & { into: number }): Promise<void> {
  if (opts.into < 2) throw new UsageError("--into must be at least 2");
  const deps = makeDeps(opts);
  const children = inWriteTx(deps.db, () => {
    const original = needTicket(deps, id, "split");
    if (original.splitFromId || splitChildrenOf(deps.db, id).length) throw new UsageError(`issue ${id} is already part of a split`);
    allow(deps, original, "closed"); // a merged or converted ticket stays as it is
    const at = deps.now().toISOString();
    const made = Array.from({ length: opts.into }, (_, n) =>
      createIssue(
        deps.db,
        {
          guid: deps.newGuid().toLowerCase(),
          kind: "ticket",
          state: "todo",
          queue: original.queue,
          assignee: original.assignee,
          parentId: original.parentId,
          splitFromId: original.id,
          userIdentificationId: original.userIdentificationId,
          subject: original.subject ? `${original.subject} (${n + 1}/${opts.into})` : null,
          recipient: original.recipient,
          openDate: at,
          updatedAt: at,
        },
        deps.config.referencePrefix,
      ),
    );
    const actor = osUser();
    for (const child of made) recordIssueEvent(deps.db, child.id, at, actor, "created", `ticket split from issue ${id}`);
    recordIssueEvent(deps.db, id, at, actor, "split_into", made.map((m) => m.id).join(", "));
    updateIssue(deps.db, id, { state: "closed", closedDate: at, updatedAt: at }, actor);
    return made;
  });
  if (opts.json) printJson({ original: id, children });
  else process.stdout.write(`split issue ${id} into ${children.map((c) => c.reference).join(", ")}\n`);
}

export async function convert(id: number, opts: CommonOptions): Promise<void> {
  const deps = makeDeps(opts);
  const result = inWriteTx(deps.db, () => {
    const ticket = needTicket(deps, id, "converted");
    if (ticket.convertedToId) throw new UsageError(`issue ${id} was already converted into ${ticket.convertedToId}`);
    allow(deps, ticket, "resolved"); // a merged, split or closed ticket is not converted
    const at = deps.now().toISOString();
    const kase = createIssue(
      deps.db,
      {
        guid: deps.newGuid().toLowerCase(),
        kind: "case",
        state: "todo",
        queue: ticket.queue,
        assignee: ticket.assignee,
        parentId: ticket.parentId,
        userIdentificationId: ticket.userIdentificationId,
        subject: ticket.subject,
        recipient: ticket.recipient,
        openDate: at,
        updatedAt: at,
      },
      deps.config.referencePrefix,
    );
    // Enate: a ticket converted into a case is resolved by the conversion.
    const actor = osUser();
    recordIssueEvent(deps.db, kase.id, at, actor, "converted_from", String(id));
    const resolved = updateIssue(deps.db, id, { convertedToId: kase.id, state: "resolved", closedDate: at, updatedAt: at }, actor);
    return { ticket: resolved, case: kase };
  });
  if (opts.json) printJson(result);
  else process.stdout.write(`converted ${result.ticket.reference} into case ${result.case.reference}\n`);
}

export async function assign(id: number, opts: CommonOptions & { to: string; queue?: string }): Promise<void> {
  const assignee = opts.to.trim();
  if (!assignee) throw new UsageError("--to must name someone");
  if (opts.queue !== undefined && !opts.queue.trim()) throw new UsageError("--queue must not be empty");
  const deps = makeDeps(opts);
  const issue = inWriteTx(deps.db, () => {
    const current = need(deps, id);
    allow(deps, current, current.state, current.waitType); // merged, converted and split tickets stay put
    const patch = { assignee, ...(opts.queue !== undefined ? { queue: opts.queue.trim() } : {}) };
    if (current.assignee === patch.assignee && (patch.queue === undefined || patch.queue === current.queue)) return current;
    return updateIssue(deps.db, id, { ...patch, updatedAt: deps.now().toISOString() }, osUser());
  });
  if (opts.json) printJson(issue);
  else process.stdout.write(`${line(issue)} → ${terminalSafe(issue.assignee)}${issue.queue ? ` (queue ${terminalSafe(issue.queue)})` : ""}\n`);
}
