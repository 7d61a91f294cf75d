// `ingest-mail init`: creates (and migrates) the database on purpose. Admin commands never create
// one (issue 10: a typo in --db must not become an empty database that says "no staged mail").
import { makeDeps, printJson, type CommonOptions } from "../context.js";

export async function run(opts: CommonOptions): Promise<void> {
  const deps = makeDeps(opts, process.env, undefined, { create: true });
  deps.db.$client.close();
  if (opts.json) printJson({ db: deps.paths.db });
  else process.stdout.write(`database ${deps.paths.db} is ready\n`);
}
