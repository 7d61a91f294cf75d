// `ingest-mail user add`: register a user so the sender lookup (domain.md §2) finds them.
import { listUsers } from "../../db/list-queries.js";
import { createUser, findUserByEmail, getAccount } from "../../db/queries.js";
import { table, terminalSafe } from "../output.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { splitDisplayName } from "../../rules/display-name.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function add(opts: CommonOptions & { email: string; name?: string; account?: number }): Promise<void> {
  const email = opts.email.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError(`--email "${opts.email}" is not an email address`);
  const deps = makeDeps(opts);
  if (opts.account !== undefined && !getAccount(deps.db, opts.account)) throw new NotFoundError(`no account ${opts.account}`);
  if (findUserByEmail(deps.db, email)) throw new UsageError(`a user with email ${email} already exists`);
  const names = splitDisplayName(opts.name ?? null, email);
  const user = createUser(deps.db, { email, ...names, accountId: opts.account ?? null, createdAt: deps.now().toISOString() });
  if (opts.json) printJson(user);
  else process.stdout.write(`user ${user.id}: ${email}${opts.name ? ` (${opts.name})` : ""}\n`);
}

export async function list(opts: CommonOptions): Promise<void> {
  const deps = makeDeps(opts);
  const rows = listUsers(deps.db);
  if (opts.json) return printJson({ users: rows });
  if (!rows.length) return void process.stdout.write("no users\n");
  const name = (u: (typeof rows)[number]) => [u.firstNames, u.lastName].filter(Boolean).join(" ");
  const out = table(
    ["ID", "EMAIL", "NAME", "ACCOUNT", "IDENTIFICATIONS", "CREATED"],
    rows.map((u) => [String(u.id), terminalSafe(u.email), terminalSafe(name(u)), u.accountId !== null ? `${u.accountId} ${terminalSafe(u.accountName)}` : "", String(u.identifications), u.createdAt.slice(0, 19).replace("T", " ")]),
  );
  process.stdout.write(`${out}\n`);
}
