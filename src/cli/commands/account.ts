// `ingest-mail account add`: a customer organisation; its support level drives assignment (Salesforce).
import { createAccount } from "../../db/queries.js";
import { UsageError } from "../../errors.js";
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function add(opts: CommonOptions & { name: string; supportLevel: string }): Promise<void> {
  if (!opts.name.trim() || !opts.supportLevel.trim()) throw new UsageError("--name and --support-level must not be empty");
  const deps = makeDeps(opts);
  const account = createAccount(deps.db, opts.name.trim(), opts.supportLevel.trim());
  if (opts.json) printJson(account);
  else process.stdout.write(`account ${account.id}: ${account.name} (${account.supportLevel})\n`);
}
