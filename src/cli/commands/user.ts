// `ingest-mail user add` / `user link`: register a user so the sender lookup (domain.md §2) finds
// them, and keep one identity per customer (issue 10): `add` links the earliest identification that
// already has her address, so her next mail continues it rather than starting a new one.
import { createUser, findUserByEmail, getAccount, getIdentification, getUser } from "../../store/queries/queries.js";
import { earliestUnlinkedIdentification, linkIdentification } from "../../store/queries/user-queries.js";
import { listUsers } from "../../store/queries/list-queries.js";
import { table, terminalSafe } from "../output.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { singleMailbox } from "../../rules/mailbox.js";
import { splitDisplayName } from "../../rules/display-name.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function add(opts: CommonOptions & { email: string; name?: string; account?: number }): Promise<void> {
  const email = opts.email.trim().toLowerCase();
  // One plain mailbox, as a confirmation may be written to (rules/mailbox.ts); `issue create --email` checks the same.
  if (!singleMailbox(email).ok) throw new UsageError(`--email "${opts.email}" is not an email address`);
  const deps = await makeDeps(opts);
  const { user, linked } = await deps.db.write(async (tx) => {
    if (opts.account !== undefined && !(await getAccount(tx, opts.account))) throw new NotFoundError(`no account ${opts.account}`);
    if (await findUserByEmail(tx, email)) throw new UsageError(`a user with email ${email} already exists`);
    const names = splitDisplayName(opts.name ?? null, email);
    const user = await createUser(tx, { email, ...names, accountId: opts.account ?? null, createdAt: deps.now().toISOString() });
    const earliest = await earliestUnlinkedIdentification(tx, email);
    const linked = earliest && (await linkIdentification(tx, earliest.id, user.id)) ? earliest.id : null;
    return { user, linked };
  });
  if (opts.json) printJson({ ...user, linkedIdentificationId: linked });
  else process.stdout.write(`user ${user.id}: ${email}${opts.name ? ` (${opts.name})` : ""}; ${linked ? `linked identification ${linked} (earlier mail from ${email})` : "no earlier identification to link"}\n`);
}

export async function link(userId: number, opts: CommonOptions & { identification: number }): Promise<void> {
  const deps = await makeDeps(opts);
  const ident = await deps.db.write(async (tx) => {
    if (!(await getUser(tx, userId))) throw new NotFoundError(`no user ${userId}`);
    const ident = await getIdentification(tx, opts.identification);
    if (!ident) throw new NotFoundError(`no user identification ${opts.identification}`);
    if (ident.userId === userId) return ident;
    if (ident.userId !== null || !(await linkIdentification(tx, ident.id, userId))) throw new UsageError(`user identification ${ident.id} already belongs to user ${ident.userId}`);
    return ident;
  });
  if (opts.json) printJson({ userId, linkedIdentificationId: ident.id, email: ident.email });
  else process.stdout.write(`linked identification ${ident.id}${ident.email ? ` (${ident.email})` : ""} to user ${userId}\n`);
}

export async function list(opts: CommonOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const rows = await listUsers(deps.db);
  if (opts.json) return printJson({ users: rows });
  if (!rows.length) return void process.stdout.write("no users\n");
  const name = (u: (typeof rows)[number]) => [u.firstNames, u.lastName].filter(Boolean).join(" ");
  const out = table(
    ["ID", "EMAIL", "NAME", "ACCOUNT", "IDENTIFICATIONS", "CREATED"],
    rows.map((u) => [String(u.id), terminalSafe(u.email), terminalSafe(name(u)), u.accountId !== null ? `${u.accountId} ${terminalSafe(u.accountName)}` : "", String(u.identifications), u.createdAt.slice(0, 19).replace("T", " ")]),
  );
  process.stdout.write(`${out}\n`);
}
