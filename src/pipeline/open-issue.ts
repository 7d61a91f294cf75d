// domain.md §5: no match (or a closed chain): a new issue from the route of the support address,
// with the assignee from the first matching assignment rule.
import { createIssue, type Issue } from "../store/queries/queries.js";
import { assign, routeFor, type RouteDecision } from "../rules/route.js";
import type { Deps } from "./deps.js";
import type { TraceStep } from "./outcome.js";

export interface NewIssueInput {
  userIdentificationId: number;
  supportLevel: string | null;
  address: string | null; // base support address (ids removed)
  subject: string | null;
  followsClosed: Issue | null;
  /** The flood limit's fields (trust.ts floodFields), or null to count the issue at its open time. */
  flood?: { floodAt: string; unauthenticated: boolean } | null;
}

export async function openIssue(deps: Deps, input: NewIssueInput): Promise<{ issue: Issue; route: RouteDecision; trace: TraceStep[] }> {
  const at = deps.now().toISOString();
  const route = routeFor(deps.config, input.address);
  const who = assign(deps.config.assignment, { supportLevel: input.supportLevel, address: input.address, subject: input.subject });
  const issue = await createIssue(
    deps.db,
    {
      guid: deps.newGuid().toLowerCase(),
      kind: route.kind,
      state: "todo",
      queue: who?.queue ?? route.queue,
      assignee: who?.assignee ?? null,
      newInfo: true,
      userIdentificationId: input.userIdentificationId,
      subject: input.subject,
      recipient: input.address,
      followsClosedId: input.followsClosed?.id ?? null,
      openDate: at,
      updatedAt: at,
      ...input.flood,
    },
    deps.config.referencePrefix,
  );
  const trace: TraceStep[] = [
    { step: "route", decision: `new ${route.kind} ${issue.reference}`, reason: route.routeAddress ? `route for ${route.routeAddress}` : "default route" },
  ];
  if (who) trace.push({ step: "assign", decision: `assignee ${who.assignee}`, reason: `assignment rule ${who.rule + 1} matched` });
  return { issue, route, trace };
}

/** Enate: back to todo means queue and assignee are set again by the rules. */
export function reassignment(deps: Deps, issue: Issue, supportLevel: string | null): { queue?: string | null; assignee?: string | null } {
  const who = assign(deps.config.assignment, { supportLevel, address: issue.recipient, subject: issue.subject });
  const route = routeFor(deps.config, issue.recipient);
  return { queue: who?.queue ?? route.queue ?? issue.queue, assignee: who?.assignee ?? issue.assignee };
}
