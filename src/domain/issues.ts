// One vocabulary for work items (issue 11, point 5; domain.md §4, Enate): defined here once, used by
// the state rules, the admin commands, the web console and the configuration.

export const ISSUE_STATES = ["draft", "todo", "in_progress", "waiting", "resolved", "closed"] as const;
export type IssueState = (typeof ISSUE_STATES)[number];

/** Tickets, cases and actions (domain.md §4): an action belongs to a case, a case may belong to a ticket. */
export const ISSUE_KINDS = ["ticket", "case", "action"] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

/** What a waiting issue waits for; only `more_info` is moved back to todo by a reply (domain.md §4). */
export const WAIT_TYPES = ["more_info", "third_party", "internal", "scheduled"] as const;
export type WaitType = (typeof WAIT_TYPES)[number];
