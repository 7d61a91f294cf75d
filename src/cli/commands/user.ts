// `ingest-mail user add`: register a user so the sender lookup (domain.md §2) finds them.
import { createUser, findUserByEmail, getAccount } from "../../db/queries.js";
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
