// SIGHUP (issue 12, point 6): the same dependencies with a configuration read again. The database
// connection, clock and ids stay; paths, logging, the mailer and the host name follow the file.
import { hostname } from "node:os";
import type { Config } from "../config.js";
import { fileLogger, resolvePaths, systemClock, type Deps, type Mailer } from "../pipeline/deps.js";

export function withConfig(deps: Deps, config: Config): Deps {
  const paths = resolvePaths(deps.paths.db, config);
  let mailer: Promise<Mailer> | null = null;
  return {
    ...deps,
    config,
    paths,
    log: fileLogger(config.logFile, systemClock),
    mailer: () => (mailer ??= import("../outbound/transport.js").then((m) => m.createMailer(config, paths))),
    hostname: config.outbound.host ?? hostname(),
  };
}
