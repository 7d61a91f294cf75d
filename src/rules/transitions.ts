// Work-item rules at the edges (issue 14, domain.md §4, Enate): which state changes an administrator
// may make, which parent an issue may have, which wait types exist. Pure: the command reads the
// issue, asks here, and writes only when the answer is yes.

import { ISSUE_STATES, WAIT_TYPES, type IssueState } from "../domain/issues.js";

export { WAIT_TYPES };
export const STATES = ISSUE_STATES;
export type State = IssueState;

// From each state, the states it may move to. Closed is final: mail to a closed issue goes up its
// parent chain or opens a new issue (domain.md §4), so reopening it by hand would split the
// conversation. Draft is only before a work item is taken on (todo may go back to it).
const NEXT: Record<State, readonly State[]> = {
  draft: ["draft", "todo", "in_progress", "closed"],
  todo: ["todo", "draft", "in_progress", "waiting", "resolved", "closed"],
  in_progress: ["in_progress", "todo", "waiting", "resolved", "closed"],
  waiting: ["waiting", "todo", "in_progress", "resolved", "closed"],
  resolved: ["resolved", "todo", "in_progress", "closed"],
  closed: ["closed"],
};

export interface IssueFacts {
  kind: string;
  state: string;
  mergedIntoId: number | null;
  convertedToId: number | null;
  /** How many tickets it was split into (0 when it was not split). */
  splitInto: number;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const no = (reason: string): Verdict => ({ ok: false, reason });

/** May an administrator set this issue to `to` (with `waitType`)? */
export function checkTransition(issue: IssueFacts, to: string, waitType: string | null = null): Verdict {
  if (!(STATES as readonly string[]).includes(to)) return no(`unknown state "${to}"`);
  // Merged, converted and split tickets stay put: mail to them is delivered to the target, the case
  // or the children (domain.md §4), so a state of their own would never be seen again.
  if (issue.mergedIntoId !== null) return no(`it was merged into issue ${issue.mergedIntoId}; change that one`);
  if (issue.convertedToId !== null) return no(`it was converted into case ${issue.convertedToId}; change that one`);
  if (issue.splitInto > 0) return no(`it was split into ${issue.splitInto} tickets; change those`);
  if (waitType !== null && to !== "waiting") return no("a wait type goes with state waiting");
  if (waitType !== null && !(WAIT_TYPES as readonly string[]).includes(waitType)) return no(`unknown wait type "${waitType}" (one of ${WAIT_TYPES.join(", ")})`);
  // Enate: only cases and tickets can be resolved; an action is closed.
  if (to === "resolved" && issue.kind === "action") return no("it is an action; only tickets and cases can be resolved");
  const from = issue.state as State;
  const allowed = NEXT[from];
  if (!allowed) return no(`its state "${issue.state}" is unknown`);
  if (!allowed.includes(to as State)) return no(`${from} cannot go to ${to}${from === "closed" ? " (closed is final; mail to it opens a follow-up issue)" : ""}`);
  return { ok: true };
}

// Enate's hierarchy: an action belongs to a case; a case may sit under a case or a ticket; a ticket
// under a ticket (domain.md §4, "go up the chain").
const PARENTS: Record<string, readonly string[]> = { action: ["case"], case: ["case", "ticket"], ticket: ["ticket"] };

/** May an issue of `kind` have a parent of `parentKind` (null: no parent)? */
export function checkParent(kind: string, parentKind: string | null): Verdict {
  const allowed = PARENTS[kind];
  if (!allowed) return no(`unknown kind "${kind}"`);
  if (parentKind === null) return kind === "action" ? no("an action needs a parent case (--parent)") : { ok: true };
  if (!allowed.includes(parentKind)) return no(`${kind === "action" ? "an" : "a"} ${kind}'s parent must be a ${allowed.join(" or a ")}, not a ${parentKind}`);
  return { ok: true };
}
