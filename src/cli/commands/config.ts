// `ingest-mail config check FILE` and `ingest-mail config show` (issue 14): check a file before
// deploying it; print the configuration in effect, where it came from, with secrets masked.
import { configProblems, maskSecrets } from "../../config-check.js";
import { locateConfig, SOURCE_LABEL } from "../../config-lookup.js";
import { defaultConfig, loadConfig } from "../../config.js";
import { ConfigError } from "../../errors.js";
import { resolvePaths } from "../../pipeline/deps.js";
import { databaseTarget, defaultDataDir, printJson, type CommonOptions } from "../context.js";

/** Exit 0 when FILE is a valid configuration, else 78 naming the key; never prints the file's text. */
export async function check(file: string, opts: { json?: boolean }): Promise<void> {
  let message: string | null = null;
  try {
    const config = loadConfig(file, process.env);
    const problem = configProblems(config)[0];
    if (problem) message = `config: "${problem.key}" ${problem.message}`;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    message = e.message;
  }
  if (opts.json) printJson({ file, ok: message === null, error: message });
  else if (message === null) process.stdout.write(`${file}: ok\n`);
  if (message !== null) throw new ConfigError(message);
}

export async function show(opts: CommonOptions): Promise<void> {
  const env = process.env;
  const where = locateConfig(opts.config, env);
  const config = where.file ? loadConfig(where.file, env) : defaultConfig;
  // A PostgreSQL URL is shown without its password (issue 11).
  const paths = maskSecrets(resolvePaths(databaseTarget(opts, config, env), config, defaultDataDir(env)));
  const source = { kind: where.source, label: SOURCE_LABEL[where.source], file: where.file };
  const shown = maskSecrets(config);
  if (opts.json) return printJson({ source, paths, config: shown });
  process.stdout.write(`# configuration: ${where.file ? `${where.file} (${source.label})` : source.label}\n`);
  process.stdout.write(`# database: ${paths.db}\n# attachments: ${paths.attachmentsDir}\n# spool: ${paths.spoolDir}\n`);
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
}
