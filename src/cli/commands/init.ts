// `ingest-mail init`: creates (and migrates) the database on purpose. Admin commands never create
// one (issue 10: a typo in --db must not become an empty database that says "no staged mail").
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function run(opts: CommonOptions): Promise<void> {
  const deps = await makeDeps(opts, process.env, undefined, { create: true });
  await deps.store.close();
  // The store's location: a PostgreSQL URL without its password (issue 11).
  if (opts.json) printJson({ db: deps.store.location });
  else process.stdout.write(`database ${deps.store.location} is ready\n`);
}
