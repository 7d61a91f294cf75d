// domain.md §4: where a matched mail goes and what it does to the work items. Pure: it reads issues
// through `view` and returns a plan; the orchestrator writes it.
import type { TraceStep } from "../domain/trace.js";
import type { Issue, NewIssue } from "../store/queries/queries.js";

export interface IssueView {
  get(id: number): Issue | undefined;
  splitChildren(id: number): Issue[];
}

export interface Target {
  issue: Issue;
  patch: Partial<NewIssue>;
  /** State was resolved and is now todo (ACS "reopen the issue if it's closed"). */
  reopened: boolean;
  /** Queue and assignee are to be set again (Enate: state → todo). */
  reassign: boolean;
}

export interface ParentUpdate {
  issue: Issue;
  patch: Partial<NewIssue>;
}

export interface Plan {
  targets: Target[];
  parentUpdates: ParentUpdate[];
  /** No live issue in the chain: open a new one linked to this closed issue (domain.md §4, §5). */
  newIssueFollowing: Issue | null;
  trace: TraceStep[];
}

const MAX_HOPS = 64; // a corrupt chain (a cycle) must not hang the MTA

export function planDelivery(matched: Issue, view: IssueView): Plan {
  const plan: Plan = { targets: [], parentUpdates: [], newIssueFollowing: null, trace: [] };
  const note = (decision: string, reason: string) => plan.trace.push({ step: "state", decision, reason });
  // Issues whose state rules already ran (a split child reached twice gets the mail once).
  const handled = new Set<number>();

  // Resolves links (merged, converted, split) to the live issues, then applies the state rules.
  // `path` holds the issues on the way here: meeting one again is a cycle. `inSplit` stops a child
  // from expanding its split again.
  const deliver = (issue: Issue, path: ReadonlySet<number>, inSplit = false): void => {
    if (path.has(issue.id) || path.size > MAX_HOPS) {
      note(`stopped at ${issue.reference}`, "issue links form a cycle or are too deep");
      return;
    }
    const here = new Set(path).add(issue.id);
    if (issue.mergedIntoId) {
      const target = view.get(issue.mergedIntoId);
      if (target) {
        note(`follow merge to ${target.reference}`, `${issue.reference} was merged into ${target.reference}`);
        return deliver(target, here);
      }
    }
    if (issue.convertedToId) {
      const target = view.get(issue.convertedToId);
      if (target) {
        note(`follow conversion to ${target.reference}`, `${issue.reference} was converted into case ${target.reference}`);
        return deliver(target, here);
      }
    }
    if (!inSplit) {
      const splitRoot = issue.splitFromId ? view.get(issue.splitFromId) : issue;
      const children = splitRoot ? view.splitChildren(splitRoot.id) : [];
      if (splitRoot && children.length > 0) {
        note(`split: deliver to ${children.map((c) => c.reference).join(", ")}`, `${splitRoot.reference} was split; every child gets the mail`);
        const rootPath = new Set(here).add(splitRoot.id);
        for (const child of children) {
          const childPath = new Set(rootPath);
          childPath.delete(child.id); // the matched child itself is delivered to like its siblings
          deliver(child, childPath, true);
        }
        return;
      }
    }
    deliverState(issue, here);
  };

  // The state rules proper, on one live (not merged, converted or split) issue.
  const deliverState = (issue: Issue, path: ReadonlySet<number>): void => {
    if (handled.has(issue.id)) return;
    handled.add(issue.id);
    if (issue.state === "closed") {
      // Enate: action → its case; case → parent case or ticket; ticket → parent ticket.
      let parent = issue.parentId ? view.get(issue.parentId) : undefined;
      const walked = new Set<number>([issue.id]);
      while (parent && parent.state === "closed" && !walked.has(parent.id) && walked.size <= MAX_HOPS) {
        walked.add(parent.id);
        parent = parent.parentId ? view.get(parent.parentId) : undefined;
      }
      if (parent && parent.state !== "closed") {
        note(`go up to ${parent.reference}`, `${issue.reference} is closed; ${parent.reference} is the first open issue in its chain`);
        return deliver(parent, path);
      }
      note("open a new issue", `${issue.reference} is closed and no issue above it is open`);
      plan.newIssueFollowing ??= issue;
      return;
    }
    const patch: Partial<NewIssue> = { newInfo: true };
    let reopened = false;
    let reassign = false;
    if (issue.state === "waiting") {
      if (issue.waitType === "more_info") {
        Object.assign(patch, { state: "todo", waitType: null });
        reassign = true;
        note(`${issue.reference} waiting → todo`, "it was waiting for more information");
        const parent = issue.kind === "action" && issue.parentId ? view.get(issue.parentId) : undefined;
        if (parent && parent.kind === "case" && parent.state === "waiting" && parent.waitType === "more_info") {
          plan.parentUpdates.push({ issue: parent, patch: { state: "in_progress", waitType: null } });
          note(`${parent.reference} waiting → in_progress`, `action ${issue.reference} and its parent case were both waiting for more information`);
        }
      } else note(`append to ${issue.reference}`, `waiting (${issue.waitType ?? "no wait type"}): new information flagged, state kept`);
    } else if (issue.state === "resolved") {
      Object.assign(patch, { state: "todo", closedDate: null });
      reopened = true;
      reassign = true;
      note(`reopen ${issue.reference}`, "resolved → todo");
    } else note(`append to ${issue.reference}`, `${issue.state}: new information flagged`);
    plan.targets.push({ issue, patch, reopened, reassign });
  };

  deliver(matched, new Set());
  // A closed split child whose siblings took the mail: the mail did find live work items, so no new
  // issue (Enate opens one only when it cannot match the mail to a running work item).
  if (plan.newIssueFollowing && plan.targets.length > 0) {
    note("no new issue", `${plan.newIssueFollowing.reference} is closed, but the mail reached ${plan.targets.map((t) => t.issue.reference).join(", ")}`);
    plan.newIssueFollowing = null;
  }
  return plan;
}
