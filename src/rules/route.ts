// domain.md §5 with Salesforce's assignment rules: the route (by support address) gives kind, queue
// and whether to confirm; the first assignment rule that matches gives the assignee.
import type { AssignmentRule, Config, IssueKind } from "../config.js";

export interface RouteDecision {
  kind: IssueKind;
  queue: string | null;
  sendResponse: boolean;
  routeAddress: string | null; // null = default route
}

export function routeFor(config: Pick<Config, "routes" | "defaultRoute">, address: string | null): RouteDecision {
  const a = (address ?? "").toLowerCase();
  const r = config.routes.find((x) => x.address.toLowerCase() === a);
  if (r) return { kind: r.kind, queue: r.queue ?? null, sendResponse: r.sendResponse, routeAddress: r.address };
  const d = config.defaultRoute;
  return { kind: d.kind, queue: d.queue ?? null, sendResponse: d.sendResponse, routeAddress: null };
}

export interface AssignInput {
  supportLevel: string | null;
  address: string | null;
  subject: string | null;
}

export function assign(rules: AssignmentRule[], input: AssignInput): { assignee: string; queue: string | null; rule: number } | null {
  for (const [i, rule] of rules.entries()) {
    const w = rule.when;
    if (w.supportLevel !== undefined && w.supportLevel.toLowerCase() !== (input.supportLevel ?? "").toLowerCase()) continue;
    if (w.address !== undefined && w.address.toLowerCase() !== (input.address ?? "").toLowerCase()) continue;
    if (w.subjectMatches !== undefined && !new RegExp(w.subjectMatches, "i").test(input.subject ?? "")) continue;
    return { assignee: rule.assignee, queue: rule.queue ?? null, rule: i };
  }
  return null;
}
