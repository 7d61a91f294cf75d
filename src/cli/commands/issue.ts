// `ingest-mail issue ...`: set up and inspect work items without SQL (domain.md §4).
import { sendersOfActions } from "../../store/queries/conversation-queries.js";
import { issueHistoryOf, recordIssueEvent } from "../../store/queries/history-queries.js";
import { listIssuesFiltered } from "../../store/queries/list-queries.js";
import { issueParticipants, type Participant } from "../../store/queries/participant-queries.js";
import { actionsOfIssue, createIssue, getIdentification, getIssue, getIssueByReference, identificationEmail, splitChildrenOf, updateIssue, type Issue } from "../../store/queries/queries.js";
import { notesOfIssue } from "../../store/queries/bounce-queries.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { singleMailbox } from "../../rules/mailbox.js";
import type { Db } from "../../store/store.js";
import { identifySender } from "../../pipeline/identify.js";
import { checkParent, checkTransition } from "../../rules/transitions.js";
import { osUser } from "../actor.js";
import type { IssueRef } from "../issue-ref.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";
import { conversationLines, historyLines } from "../conversation.js";
import { listFilter, shownLine, type ListOptions } from "../list-options.js";
import { colours, table, terminalSafe } from "../output.js";
import { safe } from "../../terminal-safe.js";
import { replyText, storedReplyText } from "../../rules/reply-text.js";

/** The issue named by its id or its reference (issue-ref.ts); exit 66 when there is none. */
async function need(db: Db, ref: IssueRef): Promise<Issue> {
  const issue = typeof ref === "number" ? await getIssue(db, ref) : await getIssueByReference(db, ref);
  if (!issue) throw new NotFoundError(`no issue ${ref}`);
  return issue;
}

const line = (i: Issue) =>
  `issue ${i.id} ${i.reference} ${i.kind} [${i.state}${i.waitType ? `/${i.waitType}` : ""}]${i.newInfo ? " new-info" : ""}${i.subject ? `: ${terminalSafe(i.subject)}` : ""}`;

/** Refuses a change the work-item rules do not allow (src/rules/transitions.ts). */
async function allow(db: Db, issue: Issue, state: string, waitType: string | null = null): Promise<void> {
  const verdict = checkTransition({ ...issue, splitInto: (await splitChildrenOf(db, issue.id)).length }, state, waitType);
  if (!verdict.ok) throw new UsageError(`issue ${issue.id}: ${verdict.reason}`);
}

// issue 13: how someone joined, as `issue show` prints it.
const how = (p: Participant) => (p.joined === "customer" ? "customer" : p.joined === "cc" ? `cc'd on staged mail ${p.stagedMailId}` : `wrote in (staged mail ${p.stagedMailId})`);

export async function show(ref: IssueRef, opts: CommonOptions & { full?: boolean }): Promise<void> {
  const deps = await makeDeps(opts);
  const issue = await need(deps.db, ref);
  const id = issue.id;
  const participantDetails = await issueParticipants(deps.db, id);
  const record = {
    ...issue,
    customerEmail: await identificationEmail(deps.db, issue.userIdentificationId),
    participants: participantDetails.map((p) => p.email),
    participantDetails,
    splitChildren: (await splitChildrenOf(deps.db, id)).map((c) => c.id),
    // issue 13: actions recorded before the new text was kept get it worked out now.
    actions: (await withSenders(deps.db, id)).map((a) => ({ ...a, replyText: storedReplyText(a.details, a.replyText) ?? replyText(a.details) })),
    history: await issueHistoryOf(deps.db, id),
    notes: await notesOfIssue(deps.db, id),
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
async function withSenders(db: Db, id: number) {
  const senders = new Map((await sendersOfActions(db, id)).map((s) => [s.actionId, s]));
  return (await actionsOfIssue(db, id)).map((a) => {
    const s = senders.get(a.id);
    return { ...a, from: s?.from ?? null, fromName: s?.fromName ?? null, date: s?.date ?? a.createdAt };
  });
}

export async function list(opts: ListOptions & { state?: string }): Promise<void> {
  const deps = await makeDeps(opts);
  const { rows, total } = await listIssuesFiltered(deps.db, { ...listFilter(opts, deps.now()), state: opts.state });
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

export async function create(opts: CommonOptions & { kind: string; parent?: IssueRef; email?: string; userIdentification?: number; subject?: string }): Promise<void> {
  if ((opts.email === undefined) === (opts.userIdentification === undefined)) throw new UsageError("give exactly one of --email or --user-identification");
  // The customer is found or made by this address: the same check as `user add`.
  if (opts.email !== undefined && !singleMailbox(opts.email).ok) throw new UsageError(`--email "${opts.email}" is not an email address`);
  const deps = await makeDeps(opts);
  const issue = await deps.db.write(async (tx) => {
    const parent = opts.parent !== undefined ? await need(tx, opts.parent) : null;
    const verdict = checkParent(opts.kind, parent?.kind ?? null);
    if (!verdict.ok) throw new UsageError(verdict.reason);
    let uid = opts.userIdentification;
    if (uid !== undefined && !(await getIdentification(tx, uid))) throw new NotFoundError(`no user identification ${uid}`);
    uid ??= (await identifySender({ ...deps, db: tx }, opts.email!.trim().toLowerCase(), null)).userIdentificationId;
    const at = deps.now().toISOString();
    const made = await createIssue(
      tx,
      { guid: deps.newGuid().toLowerCase(), kind: opts.kind, state: "todo", parentId: parent?.id ?? null, userIdentificationId: uid, subject: opts.subject ?? null, openDate: at, updatedAt: at },
      deps.config.referencePrefix,
    );
    await recordIssueEvent(tx, made.id, at, osUser(), "created", `${made.kind} in todo`);
    return made;
  });
  if (opts.json) printJson(issue);
  else process.stdout.write(`${line(issue)}\n`);
}

export async function setState(ref: IssueRef, state: string, opts: CommonOptions & { waitType?: string }): Promise<void> {
  if (opts.waitType && state !== "waiting") throw new UsageError("--wait-type goes with state waiting");
  const deps = await makeDeps(opts);
  const issue = await deps.db.write(async (tx) => {
    const current = await need(tx, ref);
    await allow(tx, current, state, opts.waitType ?? null);
    if (current.state === state && current.waitType === (opts.waitType ?? null)) return current; // nothing changes
    const at = deps.now().toISOString();
    return updateIssue(tx, current.id, {
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

/** Children a split makes at most: every mail to the ticket lands on each of them (a typo of 100000 made that many). */
export const MAX_SPLIT = 50;

async function needTicket(db: Db, ref: IssueRef, what: string): Promise<Issue> {
  const issue = await need(db, ref);
  if (issue.kind !== "ticket") throw new UsageError(`issue ${issue.id} is a ${issue.kind}; only tickets can be ${what}`);
  return issue;
}

export async function merge(refs: IssueRef[], opts: CommonOptions & { into: IssueRef }): Promise<void> {
  if (refs.includes(opts.into)) throw new UsageError("the target cannot be merged into itself");
  const deps = await makeDeps(opts);
  const { target, merged } = await deps.db.write(async (tx) => {
    const target = await needTicket(tx, opts.into, "merge targets");
    if (target.mergedIntoId) throw new UsageError(`issue ${target.id} was itself merged into ${target.mergedIntoId}; merge into that one`);
    // README: a merged, converted or split ticket stays as it is; its mail already goes on to where it went.
    if (target.convertedToId) throw new UsageError(`issue ${target.id} was converted into ${target.convertedToId}; merge into that one`);
    const children = await splitChildrenOf(tx, target.id);
    if (children.length) throw new UsageError(`issue ${target.id} was split into ${children.map((c) => c.id).join(", ")}; merge into one of those`);
    const at = deps.now().toISOString();
    const actor = osUser();
    const done: Issue[] = [];
    for (const ref of refs) {
      const ticket = await needTicket(tx, ref, "merged");
      const id = ticket.id;
      // Named once by id and once by reference, say.
      if (id === target.id) throw new UsageError("the target cannot be merged into itself");
      // Re-pointing an earlier merge would silently move mail away from the first target.
      if (ticket.mergedIntoId && ticket.mergedIntoId !== target.id) throw new UsageError(`issue ${id} was already merged into ${ticket.mergedIntoId}`);
      if (ticket.mergedIntoId === target.id) {
        done.push(ticket); // merged already: nothing changes
        continue;
      }
      await allow(tx, ticket, "closed"); // a converted or split ticket stays as it is
      await recordIssueEvent(tx, target.id, at, actor, "merged_from", String(id));
      done.push(await updateIssue(tx, id, { mergedIntoId: target.id, state: "closed", closedDate: at, updatedAt: at }, actor));
    }
    return { target, merged: done };
  });
  if (opts.json) printJson({ target: target.id, merged });
  else process.stdout.write(`merged ${merged.map((m) => m.reference).join(", ")} into issue ${target.id}\n`);
}

export async function split(ref: IssueRef, opts: CommonOptions & { into: number }): Promise<void> {
  if (opts.into < 2 || opts.into > MAX_SPLIT) throw new UsageError(`--into must be from 2 to ${MAX_SPLIT}`);
  const deps = await makeDeps(opts);
  const { id, children } = await deps.db.write(async (tx) => {
    const original = await needTicket(tx, ref, "split");
    const id = original.id;
    if (original.splitFromId || (await splitChildrenOf(tx, id)).length) throw new UsageError(`issue ${id} is already part of a split`);
    await allow(tx, original, "closed"); // a merged or converted ticket stays as it is
    const at = deps.now().toISOString();
    const made: Issue[] = [];
    for (let n = 0; n < opts.into; n++) {
      const child = {
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
      };
      made.push(await createIssue(tx, child, deps.config.referencePrefix));
    }
    const actor = osUser();
    for (const child of made) await recordIssueEvent(tx, child.id, at, actor, "created", `ticket split from issue ${id}`);
    await recordIssueEvent(tx, id, at, actor, "split_into", made.map((m) => m.id).join(", "));
    await updateIssue(tx, id, { state: "closed", closedDate: at, updatedAt: at }, actor);
    return { id, children: made };
  });
  if (opts.json) printJson({ original: id, children });
  else process.stdout.write(`split issue ${id} into ${children.map((c) => c.reference).join(", ")}\n`);
}

export async function convert(ref: IssueRef, opts: CommonOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const result = await deps.db.write(async (tx) => {
    const ticket = await needTicket(tx, ref, "converted");
    const id = ticket.id;
    if (ticket.convertedToId) throw new UsageError(`issue ${id} was already converted into ${ticket.convertedToId}`);
    await allow(tx, ticket, "resolved"); // a merged, split or closed ticket is not converted
    const at = deps.now().toISOString();
    const kase = await createIssue(
      tx,
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
    await recordIssueEvent(tx, kase.id, at, actor, "converted_from", String(id));
    const resolved = await updateIssue(tx, id, { convertedToId: kase.id, state: "resolved", closedDate: at, updatedAt: at }, actor);
    return { ticket: resolved, case: kase };
  });
  if (opts.json) printJson(result);
  else process.stdout.write(`converted ${result.ticket.reference} into case ${result.case.reference}\n`);
}

export async function assign(ref: IssueRef, opts: CommonOptions & { to: string; queue?: string }): Promise<void> {
  const assignee = opts.to.trim();
  if (!assignee) throw new UsageError("--to must name someone");
  if (opts.queue !== undefined && !opts.queue.trim()) throw new UsageError("--queue must not be empty");
  const deps = await makeDeps(opts);
  const issue = await deps.db.write(async (tx) => {
    const current = await need(tx, ref);
    await allow(tx, current, current.state, current.waitType); // merged, converted and split tickets stay put
    const patch = { assignee, ...(opts.queue !== undefined ? { queue: opts.queue.trim() } : {}) };
    if (current.assignee === patch.assignee && (patch.queue === undefined || patch.queue === current.queue)) return current;
    return updateIssue(tx, current.id, { ...patch, updatedAt: deps.now().toISOString() }, osUser());
  });
  if (opts.json) printJson(issue);
  else process.stdout.write(`${line(issue)} → ${terminalSafe(issue.assignee)}${issue.queue ? ` (queue ${terminalSafe(issue.queue)})` : ""}\n`);
}
