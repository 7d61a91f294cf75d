// `ingest-mail init`: creates (and migrates) the database on purpose. Admin commands never create
// one (issue 10: a typo in --db must not become an empty database that says "no staged mail").
import { accessSync, constants, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { NotFoundError } from "../../errors.js";
import { isDatabaseUrl } from "../../store/open.js";
import { osUser } from "../actor.js";
import { databaseTarget, loadCommonConfig, makeDeps, printJson, type CommonOptions } from "../context.js";

export async function run(opts: CommonOptions): Promise<void> {
  const config = loadCommonConfig(opts);
  const target = databaseTarget(opts, config, process.env);
  // SQLite would say only "unable to open database file" (a storage fault, 75): say who may not write where.
  const folder = isDatabaseUrl(target) ? null : dirname(resolve(target));
  const blocked = folder && !existsSync(resolve(target)) ? unwritableAncestor(folder) : null;
  if (blocked) throw new NotFoundError(`cannot create the database ${resolve(target)} as ${osUser()}: permission denied in ${blocked}`);
  const deps = await makeDeps(opts, process.env, config, { create: true });
  await deps.store.close();
  // The store's location: a PostgreSQL URL without its password (issue 11).
  if (opts.json) printJson({ db: deps.store.location });
  else process.stdout.write(`database ${deps.store.location} is ready\n`);
}

/** The folder init would create the database (and the folders missing on its way) in, when this user may not write it. */
function unwritableAncestor(folder: string): string | null {
  let at = folder;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    accessSync(at, constants.W_OK | constants.X_OK);
    return null;
  } catch {
    return at;
  }
}
