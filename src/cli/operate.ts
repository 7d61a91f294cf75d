// The operator's commands (issue 14): doctor, config check, config show, completion. Kept out of
// program.ts's long list so that file only gains one line.
import { Argument, type Command } from "commander";

type Common = (cmd: Command) => Command;
type Int = (name: string) => (v: string) => number;

export function registerOperate(program: Command, common: Common, int: Int): void {
  common(
    program
      .command("doctor")
      .summary("check the installation as the delivery user")
      .description(
        "Check the installation as the delivery user (default: the database's owner; as root the checks switch to that user): " +
          "configuration, database (reachable, writable, migrated), folders (present, owned, private), outbound transport, " +
          "signing secret, stuck records, failed outgoing mail, disk space. Exit 0 when nothing fails, 78 otherwise.",
      )
      .option("--as <user>", "run the checks as this user (name or uid; needs root to switch)")
      .option("--timeout <seconds>", "how long to wait for the SMTP relay's greeting", int("--timeout"), 5),
  ).action(async (opts) => (await import("./commands/doctor.js")).run(opts));

  const config = program.command("config").description("check and show the configuration");
  config
    .command("check")
    .summary("check a configuration file before deploying it")
    .description("Check a configuration file: exit 0 when it is valid, 78 naming the first bad key. Never prints the file's contents.")
    .argument("<file>", "configuration file (JSON)")
    .option("--json", "print one JSON object on stdout")
    .action(async (file: string, opts) => (await import("./commands/config.js")).check(file, opts));
  common(
    config
      .command("show")
      .summary("print the configuration in effect, secrets masked")
      .description(
        "Print the configuration in effect and where it came from: --config, else INGEST_MAIL_CONFIG, else /etc/ingest-mail/config.json, " +
          "else $XDG_CONFIG_HOME/ingest-mail/config.json (~/.config), else the built-in defaults. Secrets (addressSecret, passwords, password hashes, URL passwords) are masked.",
      ),
  ).action(async (opts) => (await import("./commands/config.js")).show(opts));

  program
    .command("completion")
    .summary("print the bash or zsh completion script")
    .description("Print the shell completion script (generated from these command definitions at build time). bash: source <(ingest-mail completion bash); zsh: source <(ingest-mail completion zsh), or save it as _ingest-mail on $fpath.")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .action(async (shell: "bash" | "zsh") => (await import("./commands/completion.js")).run(shell));
}
