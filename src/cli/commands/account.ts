// `ingest-mail account add`: a customer organisation; its support level drives assignment (Salesforce).
import { listAccounts } from "../../store/queries/list-queries.js";
import { createAccount } from "../../store/queries/queries.js";
import { table, terminalSafe } from "../output.js";
import { UsageError } from "../../errors.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function add(opts: CommonOptions & { name: string; supportLevel: string }): Promise<void> {
  if (!opts.name.trim() || !opts.supportLevel.trim()) throw new UsageError("--name and --support-level must not be empty");
  const deps = await makeDeps(opts);
  const account = await createAccount(deps.db, opts.name.trim(), opts.supportLevel.trim());
  if (opts.json) printJson(account);
  else process.stdout.write(`account ${account.id}: ${account.name} (${account.supportLevel})\n`);
}

export async function list(opts: CommonOptions): Promise<void> {
  const deps = await makeDeps(opts);
  const rows = await listAccounts(deps.db);
  if (opts.json) return printJson({ accounts: rows });
  if (!rows.length) return void process.stdout.write("no accounts\n");
  process.stdout.write(`${table(["ID", "NAME", "SUPPORT LEVEL", "USERS"], rows.map((a) => [String(a.id), terminalSafe(a.name), terminalSafe(a.supportLevel), String(a.users)]))}\n`);
}
