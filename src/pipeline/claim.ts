// Who is processing a staged record (issue 9.6). A record stays `new` until its workflow commits;
// the process working on it writes its claim (host:pid, time). A redelivery of the same mail, or
// `recover`, takes the record over only when that process is gone or its lease has run out, so a
// mail whose process was killed is finished by the MTA's next delivery attempt, with no cron job.
import { hostname } from "node:os";

export interface Claim {
  by: string;
  /** The attempt number this claim holds; the workflow commits only while it is still the record's. */
  attempt: number;
}

/** After this many interrupted attempts the record ends in `error` instead of being tried again:
 * a mail that kills every process that parses it must not be retried forever. */
export const MAX_ATTEMPTS = 3;

export const selfClaim = (): string => `${hostname()}:${process.pid}`;

/** How long a claim holds when its process cannot be asked (another host), and at most (a reused
 * pid): longer than any one mail's processing, bounded by the parse budget and send timeouts. */
export const CLAIM_LEASE_MS = 15 * 60_000;

/** Whether the process named by a claim may still be working on the record. */
export function claimIsLive(claimedBy: string | null, claimedAt: string | null, now: Date, leaseMs = CLAIM_LEASE_MS, self = selfClaim(), isAlive = pidIsAlive): boolean {
  if (!claimedBy || !claimedAt) return false;
  if (now.getTime() - Date.parse(claimedAt) > leaseMs) return false;
  // This very process (the LMTP daemon processes what it staged): alive by definition.
  if (claimedBy === self) return true;
  const at = claimedBy.lastIndexOf(":");
  const host = claimedBy.slice(0, at);
  const pid = Number(claimedBy.slice(at + 1));
  // Another host's process cannot be asked: its claim holds for the lease.
  if (host !== self.slice(0, self.lastIndexOf(":"))) return true;
  return Number.isInteger(pid) && isAlive(pid);
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
