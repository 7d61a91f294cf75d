// In-memory issues for the pure rules (matchers, planDelivery): no database, fixed ids and guids.
import type { Issue } from "../../src/store/queries/queries.js";
import type { MatchLookup } from "../../src/match/types.js";
import type { IssueView } from "../../src/rules/deliver.js";

export const guidOf = (id: number) => `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`;

export function makeIssue(id: number, over: Partial<Issue> = {}): Issue {
  return {
    id,
    guid: guidOf(id),
    reference: `CS-${String(id).padStart(6, "0")}`,
    kind: "ticket",
    state: "todo",
    waitType: null,
    parentId: null,
    queue: null,
    assignee: null,
    newInfo: false,
    mergedIntoId: null,
    splitFromId: null,
    convertedToId: null,
    followsClosedId: null,
    userIdentificationId: 1,
    subject: null,
    recipient: null,
    openDate: "2024-01-01T00:00:00.000Z",
    updatedAt: "2024-01-01T00:00:00.000Z",
    closedDate: null,
    floodAt: null,
    unauthenticated: false,
    ...over,
  };
}

/** A read-only store over some issues, answering both the matchers and planDelivery. */
export function store(...list: Issue[]): MatchLookup & IssueView {
  const byId = new Map(list.map((i) => [i.id, Object.freeze({ ...i })]));
  return Object.freeze({
    get: (id: number) => byId.get(id),
    splitChildren: (id: number) => [...byId.values()].filter((i) => i.splitFromId === id).sort((a, b) => a.id - b.id),
    issueByGuid: (guid: string) => [...byId.values()].find((i) => i.guid === guid.toLowerCase()),
    issueByReference: (ref: string) => [...byId.values()].find((i) => i.reference === ref.toUpperCase()),
  });
}
