// Setting up work items through the admin commands of the built binary, the way an administrator
// would, and reading fixtures that name ids the system generated ({{ISSUE_GUID}} ...).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { initDb, readFixture, runAsync, sandbox, type Sandbox } from "./cli.js";

/** The support addresses every rules test uses; tests add routes and assignment on top. */
export const baseConfig = { supportAddresses: ["service@example.test", "billing@example.test"], referencePrefix: "CS-" };

/** A sandbox with a config file; pass a function to put paths inside the sandbox folder. */
export function configured(config: Record<string, unknown> | ((dir: string) => Record<string, unknown>) = {}): Sandbox {
  const sb = sandbox();
  const file = join(sb.dir, "config.json");
  writeFileSync(file, JSON.stringify({ ...baseConfig, ...(typeof config === "function" ? config(sb.dir) : config) }));
  sb.env.INGEST_MAIL_CONFIG = file;
  return initDb(sb);
}

// Asynchronous on purpose: a test that blocks its worker in spawnSync for many seconds starves
// vitest's own messages on a loaded machine ("Timeout calling onTaskUpdate").

/** Runs an admin command with --json and returns its output; a non-zero exit fails the test. */
export async function admin<T = any>(sb: Sandbox, ...args: string[]): Promise<T> {
  const r = await runAsync(sb, [...args, "--json"], "");
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.json<T>();
}

/** Ingests one message the way the MTA does (stdin, exit 0 expected) and returns the --json outcome. */
export async function feed(sb: Sandbox, mail: string | Buffer, args: string[] = []): Promise<any> {
  const r = await runAsync(sb, ["--json", ...args], mail);
  expect(r.code, `ingest: ${r.stderr}`).toBe(0);
  return r.json();
}

export interface IssueJson {
  id: number;
  guid: string;
  reference: string;
  kind: string;
  state: string;
  waitType: string | null;
  queue: string | null;
  assignee: string | null;
  newInfo: boolean;
  [k: string]: unknown;
}

export function createIssue(sb: Sandbox, kind: "ticket" | "case" | "action", opts: { email?: string; parent?: number; subject?: string } = {}): Promise<IssueJson> {
  const args = ["issue", "create", "--kind", kind, "--email", opts.email ?? "alice@customer.example"];
  if (opts.parent !== undefined) args.push("--parent", String(opts.parent));
  if (opts.subject !== undefined) args.push("--subject", opts.subject);
  return admin<IssueJson>(sb, ...args);
}

export function setState(sb: Sandbox, id: number, state: string, waitType?: string): Promise<IssueJson> {
  return admin<IssueJson>(sb, "issue", "set-state", String(id), state, ...(waitType ? ["--wait-type", waitType] : []));
}

export function showIssue(sb: Sandbox, id: number): Promise<IssueJson & { actions: { id: number; stagedMailId: number; details: string; replyText: string | null }[]; participants: string[] }> {
  return admin(sb, "issue", "show", String(id));
}

export const MAIL_GUID = "0f0e0d0c-0b0a-4909-8807-060504030201";

/** A fixture with its {{NAME}} placeholders filled in (ids only known once the issue exists). */
export function fill(name: string, vars: Record<string, string | number> = {}): string {
  const text = readFixture(name).toString("utf8");
  const all: Record<string, string | number> = { MAIL_GUID, ...vars };
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (_m, k: string) => {
    if (!(k in all)) throw new Error(`fixture ${name} needs {{${k}}}`);
    return String(all[k]);
  });
  return out;
}
