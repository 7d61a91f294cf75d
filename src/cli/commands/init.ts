// `ingest-mail init`: creates (and migrates) the database on purpose. Admin commands never create
// one (issue 10: a typo in --db must not become an empty database that says "no staged mail").
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { creatableIn } from "../../fsafe.js";
import { NotFoundError } from "../../errors.js";
import { isDatabaseUrl } from "../../store/open.js";
import { osUser } from "../actor.js";
import { databaseTarget, loadCommonConfig, makeDeps, printJson, type CommonOptions } from "../context.js";

export async function run(opts: CommonOptions): Promise<void> {
  const config = loadCommonConfig(opts);
  const target = databaseTarget(opts, config, process.env);
  // SQLite would say only "unable to open database file" (a storage fault, 75): say who may not write where.
  const file = isDatabaseUrl(target) ? null : resolve(target);
  const where = file && !existsSync(file) ? creatableIn(file) : null;
  if (where && !where.writable) throw new NotFoundError(`cannot create the database ${file} as ${osUser()}: permission denied in ${where.folder}`);
  const deps = await makeDeps(opts, process.env, config, { create: true });
  await deps.store.close();
  // The store's location: a PostgreSQL URL without its password (issue 11).
  if (opts.json) printJson({ db: deps.store.location });
  else process.stdout.write(`database ${deps.store.location} is ready\n`);
}

