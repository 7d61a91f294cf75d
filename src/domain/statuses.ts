// One vocabulary for a staged mail's status (issue 11, point 5): defined here once, used by the
// pipeline, the CLI's choices, the web console, purge and the configuration check.

/** Every status a staged mail can have (README: "What happens to one message"). */
export const STAGED_STATUSES = ["new", "in_process", "workflow", "complete", "invalid", "error", "duplicate", "held", "spam", "ignored", "bounce"] as const;
export type StagedStatus = (typeof STAGED_STATUSES)[number];

/** Kept but not processed, until an administrator resubmits them (Maximo's resubmit). */
export const RESUBMITTABLE = ["invalid", "error", "held", "spam"] as const satisfies readonly StagedStatus[];

/** Settled statuses a purge may remove; never a record still to be processed. */
export const PURGEABLE = ["complete", "duplicate", "invalid", "ignored", "bounce", "error", "held", "spam"] as const satisfies readonly StagedStatus[];

/** What a purge removes when no --status is given: done with, nothing an admin still has to look at. */
export const DEFAULT_PURGE_STATUSES: StagedStatus[] = ["complete", "duplicate", "invalid", "ignored", "bounce"];
