// Issue 14: `issue show` prints the whole conversation and the issue's history. Mail text goes
// through terminalSafe (output.ts) so that nothing from mail is obeyed by the terminal.
import type { ChalkInstance } from "chalk";
import type { IssueChange } from "../store/queries/history-queries.js";
import { terminalSafe } from "./output.js";

export interface ConversationEntry {
  id: number;
  stagedMailId: number | null;
  details: string;
  createdAt: string;
  from?: string | null;
  fromName?: string | null;
  date?: string;
}

/** Each action with who wrote it, when, and its full text (indented). */
export function conversationLines(actions: ConversationEntry[], c: ChalkInstance): string[] {
  const out = [c.bold(`conversation (${actions.length})`)];
  for (const a of actions) {
    const who = a.from ? `${a.fromName ? `${terminalSafe(a.fromName)} ` : ""}<${terminalSafe(a.from)}>` : "(unknown sender)";
    out.push(`  ${c.cyan(`── ${a.date ?? a.createdAt}`)}  ${who}  ${c.dim(`action ${a.id}${a.stagedMailId !== null ? `, staged ${a.stagedMailId}` : ""}`)}`);
    const text = terminalSafe(a.details, { multiline: true }).replace(/\s+$/, "");
    out.push(...(text ? text.split("\n").map((l) => (l ? `    ${l}` : "")) : [c.dim("    (no text)")]));
  }
  return out;
}

const show = (v: string | null) => (v === null ? "–" : terminalSafe(v));
// Events have no old value to show (history-queries.ts: recordIssueEvent).
const EVENTS = new Set(["created", "split_into", "merged_from", "converted_from"]);

/** Each recorded change: when, who, what from → to. */
export function historyLines(history: IssueChange[], c: ChalkInstance): string[] {
  return [
    c.bold(`history (${history.length})`),
    ...history.map((h) => `  ${h.at}  ${terminalSafe(h.actor)}  ${h.field}: ${EVENTS.has(h.field) ? show(h.newValue) : `${show(h.oldValue)} → ${show(h.newValue)}`}`),
  ];
}
