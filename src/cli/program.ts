// The full CLI on commander: help, version, every command. Loaded only when the arguments are not the
// MTA's plain ingest call (main.ts reads that one itself: commander costs every cold start ~15 ms).
import { DEFAULT_PURGE_STATUSES, PURGEABLE, RESUBMITTABLE, STAGED_STATUSES } from "../domain/statuses.js";
import { ISSUE_KINDS } from "../domain/issues.js";
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import type { IngestOptions } from "./commands/ingest.js";
import { STATES as ISSUE_STATES } from "../rules/transitions.js";
import { withListOptions } from "./list-options.js";
import { ageArg } from "./time-args.js";
import { COMMON_OPTIONS, INGEST_ARGUMENT, INGEST_COMMAND, INGEST_OPTIONS, type OptionDef } from "./ingest-args.js";
import { registerOperate } from "./operate.js";
import { issueArg, type IssueRef } from "./issue-ref.js";
import { versionLine } from "./version.js";

export { CommanderError } from "commander";

const STATES = [...ISSUE_STATES];

const withOptions = (cmd: Command, defs: readonly OptionDef[]) => defs.reduce((c, d) => c.option(d.flags, d.description), cmd);
const common = (cmd: Command) => withOptions(cmd, COMMON_OPTIONS);

// InvalidArgumentError, not a bare CommanderError: commander prints only its own error kinds.
/**
 * A whole number from 0 to `max`. Past 2^53 a number read from text is not the one typed (`show
 * 99999999999999999999` looked up 100000000000000000000), and past the database's 64-bit integers
 * it was a driver error (70).
 */
const int =
  (name: string, max = Number.MAX_SAFE_INTEGER) =>
  (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}, got ${v.length > 24 ? `${v.slice(0, 20)}… (${v.length} digits)` : v}`);
    return n;
  };

/** recover --older-than in minutes: at most ten years (a larger age is no longer a date). */
const MAX_AGE_MINUTES = 10 * 366 * 24 * 60;

const ISSUE_ID = "issue id or reference (12 or CS-000012)";

/** The whole CLI. `runIngest` is the ingest command (main.ts: the same call as its fast path). */
export function build(runIngest: (recipient: string | undefined, opts: IngestOptions) => Promise<void>, markIngestFault: (e: Error) => Error = (e) => e): Command {
  const program = new Command("ingest-mail")
    .description("Turn inbound email into customer-service issues. The MTA runs it once per message with the mail on stdin.")
    .version(versionLine())
    // Errors are not printed here: main.ts writes each as one line ("ingest-mail: unknown option
    // '--x' (--help shows the usage)"), escaped there, where commander wrote "error: …" and the
    // whole help (24 lines in an MTA's log for one mistyped option). Subcommands inherit this.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  program.addHelpText(
    "after",
    `
Examples:
  ingest-mail --db /var/lib/ingest-mail/db < message.eml      stage and process one mail
  ingest-mail service+12-345@example.test < message.eml        with the envelope recipient (procmail "$1")
  ingest-mail list --status error                              what failed
  ingest-mail resubmit 42 --subject "Missing subject"          fix and process again

Exit codes: with a message on stdin, 0 once it is staged (whatever the outcome) and 75 when it
could not be (the MTA keeps the mail and retries), whatever went wrong: configuration, options,
database. Without a message (a terminal or empty stdin): 64. Admin commands: 64 usage, 66 no such
record, 70 internal fault, 75 storage busy, 78 configuration. Never 1.`,
  );
  // --db / --config / --json may also come before the command (ingest-mail --db x list).
  common(program).hook("preAction", (_root, action) => {
    for (const [key, value] of Object.entries(program.opts())) if (action.getOptionValue(key) === undefined) action.setOptionValue(key, value);
  });

  common(
    withOptions(
      program
        .command(INGEST_COMMAND, { isDefault: true })
        .summary("read one message from stdin and process it (default command)")
        .description(
          "Read one RFC822 message from stdin, stage it durably, then identify the writer, match or open an issue and record it.\n" +
            "With a message on stdin: exit 0 once staged (whatever the outcome), 75 when it could not be stored (the MTA retries), whatever the cause.\n" +
            "Without one (a terminal or empty stdin): 64.",
        )
        .argument(INGEST_ARGUMENT.name, INGEST_ARGUMENT.description)
        // Its usage errors are the MTA's business: main.ts turns them into 75 when a message came.
        .exitOverride((e) => {
          throw markIngestFault(e);
        }),
      INGEST_OPTIONS,
    ),
  ).action((recipient: string | undefined, opts: IngestOptions) => runIngest(recipient, opts));

  common(program.command("init").description("create (and migrate) the database; the other admin commands only open an existing one")).action(async (opts) =>
    (await import("./commands/init.js")).run(opts),
  );

  common(
    withListOptions(
      program
        .command("list")
        .description("list staged mail, newest first")
        .addOption(new Option("--status <status>", "only this status").choices([...STAGED_STATUSES])),
      int("--limit"),
      "only mail whose sender (address or name) contains this",
      "only mail whose subject or text contains this",
    ),
  ).action(async (opts) => (await import("./commands/list.js")).run(opts));

  common(
    program
      .command("show")
      .description("show one staged mail: components, status history, attachments, trace, linked records")
      .argument("<stagedId>", "staged mail id", int("stagedId"))
      .option("--raw", "write the message exactly as received (to -o FILE, or to a pipe)")
      .option("-o, --output <file>", "with --raw: write to this file")
      .option("--force", "with -o: overwrite an existing file"),
  ).action(
    async (id: number, opts) => (await import("./commands/show.js")).run(id, opts),
  );

  common(
    program
      .command("resubmit")
      .description(
        "put invalid, error, held or spam staged mail back to new and process it again now, parsed anew from its raw bytes with the current configuration",
      )
      .argument("[stagedId]", "staged mail id (or --status for many)", int("stagedId"))
      .option("--subject <text>", "supply (or correct) the subject before processing")
      .addOption(new Option("--status <status>", "resubmit every staged mail in this status").choices([...RESUBMITTABLE]))
      .option("--since <time>", "with --status: only mail received since this date or time")
      .addHelpText("after", "\nExamples:\n  ingest-mail resubmit 42 --subject \"Order 1234\"\n  ingest-mail resubmit --status error --since 2026-12-01"),
  ).action(async (id: number | undefined, opts) => (await import("./commands/resubmit.js")).run(id, opts));

  common(
    program
      .command("recover")
      .description("finish staged mail left in new / in_process / workflow by a crash (older than recoverAfterMinutes)")
      .option("--older-than <minutes>", "override the configured age", int("--older-than", MAX_AGE_MINUTES)),
  ).action(async (opts) => (await import("./commands/recover.js")).run(opts));

  const issue = program.command("issue").description("inspect and manage issues (tickets, cases, actions)");
  common(
    issue
      .command("show")
      .summary("show one issue with its actions")
      .description("show one issue: state, queue, assignee, links, participants (and how each joined) and its actions, each as the new text of its mail")
      .argument("<id>", ISSUE_ID, issueArg("id"))
      .option("--full", "print each action's whole mail text, quoted history and signature included"),
  ).action(async (id: IssueRef, opts) =>
    (await import("./commands/issue.js")).show(id, opts),
  );
  common(
    withListOptions(
      issue.command("list").description("list issues, newest first (--since: updated since)").addOption(new Option("--state <state>", "only this state").choices(STATES)),
      int("--limit"),
      "only issues whose customer's address contains this",
      "only issues whose subject or reference contains this",
    ),
  ).action(async (opts) =>
    (await import("./commands/issue.js")).list(opts),
  );
  common(
    issue
      .command("create")
      .summary("create an issue by hand")
      .description("create an issue by hand, in state todo (for set-up and tests); give its customer by --email or --user-identification")
      .addOption(new Option("--kind <kind>", "kind of work item (required)").choices([...ISSUE_KINDS]).makeOptionMandatory())
      .option("--parent <id>", "parent issue id or reference (an action's case; a case's parent case or ticket)", issueArg("--parent"))
      .option("--email <addr>", "customer email, identified as an incoming mail from it would be")
      .option("--user-identification <id>", "customer's user identification id", int("--user-identification"))
      .option("--subject <text>", "subject"),
  ).action(async (opts) => (await import("./commands/issue.js")).create(opts));
  common(
    issue
      .command("set-state")
      .summary("set an issue's state (and wait type)")
      .description("set an issue's state; only tickets and cases can be resolved")
      .argument("<id>", ISSUE_ID, issueArg("id"))
      .addArgument(new Argument("<state>", "new state").choices(STATES))
      .option("--wait-type <type>", "with waiting: what it waits for (more_info, third_party, internal, scheduled); more_info means a reply moves it back to todo"),
  ).action(async (id: IssueRef, state: string, opts) => (await import("./commands/issue.js")).setState(id, state, opts));
  common(
    issue
      .command("assign")
      .summary("assign an issue to someone (and a queue)")
      .description("assign an issue to someone, optionally moving it to a queue; the change is kept in the issue's history")
      .argument("<id>", ISSUE_ID, issueArg("id"))
      .requiredOption("--to <assignee>", "who works on it (required)")
      .option("--queue <queue>", "the queue it moves to"),
  ).action(async (id: IssueRef, opts) => (await import("./commands/issue.js")).assign(id, opts));
  common(
    issue
      .command("merge")
      .summary("merge tickets into a target ticket")
      .description("merge tickets into a target ticket and close them; mail to any of them lands on the target")
      .argument("<ids...>", "ticket ids or references to merge", (v: string, prev: IssueRef[] = []) => [...prev, issueArg("id")(v)])
      .requiredOption("--into <target>", "target ticket id or reference (required)", issueArg("--into")),
  ).action(async (ids: IssueRef[], opts) => (await import("./commands/issue.js")).merge(ids, opts));
  common(
    issue
      .command("split")
      .summary("split a ticket into N child tickets")
      .description("split a ticket into N child tickets and close it; mail to it or any child lands on every child")
      .argument("<id>", "ticket id or reference (12 or CS-000012)", issueArg("id"))
      .requiredOption("--into <n>", "number of child tickets, 2 to 50 (required)", int("--into")),
  ).action(async (id: IssueRef, opts) => (await import("./commands/issue.js")).split(id, opts));
  common(issue.command("convert").summary("convert a ticket into a case").description("convert a ticket into a new case (the ticket is resolved); mail to the ticket lands on the case").argument("<ticketId>", "ticket id or reference (12 or CS-000012)", issueArg("ticketId"))).action(
    async (id: IssueRef, opts) => (await import("./commands/issue.js")).convert(id, opts),
  );

  const user = program.command("user").description("manage registered users");
  common(
    user
      .command("add")
      .summary("register a user")
      .description("register a user: mail from this address is linked to them, and their account's support level drives assignment")
      .requiredOption("--email <addr>", "email address (required)")
      .option("--name <name>", 'full name, e.g. "Ada Lovelace" or "Lovelace, Ada"')
      .option("--account <id>", "account id (from account add)", int("--account")),
  ).action(async (opts) => (await import("./commands/user.js")).add(opts));
  common(user.command("list").description("list registered users with their account")).action(async (opts) => (await import("./commands/user.js")).list(opts));
  common(
    user
      .command("link")
      .summary("link a user identification to a registered user")
      .description("link an existing user identification (e.g. from another address of hers) to a registered user")
      .argument("<userId>", "user id", int("userId"))
      .requiredOption("--identification <id>", "user identification id (required)", int("--identification")),
  ).action(async (id: number, opts) => (await import("./commands/user.js")).link(id, opts));

  const account = program.command("account").description("manage customer accounts");
  common(
    account
      .command("add")
      .summary("add a customer account")
      .description("add a customer account; its support level drives assignment rules (when.supportLevel)")
      .requiredOption("--name <name>", "account name (required)")
      .requiredOption("--support-level <level>", "support level, e.g. gold (required)"),
  ).action(async (opts) => (await import("./commands/account.js")).add(opts));
  common(account.command("list").description("list customer accounts with their number of users")).action(async (opts) => (await import("./commands/account.js")).list(opts));

  const attachment = program.command("attachment").description("attachments extracted from staged mail");
  common(
    attachment
      .command("get")
      .summary("write one attachment's bytes")
      .description("write one attachment's bytes (ids: `show STAGED_ID`) to -o FILE, or to a pipe; never to a terminal")
      .argument("<id>", "attachment id", int("id"))
      .option("-o, --output <file>", "write to this file (created 0600)")
      .option("--force", "overwrite an existing file"),
  ).action(async (id: number, opts) => (await import("./commands/raw.js")).attachmentGet(id, opts));

  common(
    program
      .command("purge")
      .summary("remove old mail (retention) or erase one person's data")
      .description(
        "Remove staged mail received before an age (raw bytes, attachments, status history, outgoing mail and, unless --keep-text,\n" +
          "the conversation recorded from it), or erase everything about one person (--email). Without either, the configured\n" +
          "retention applies. Erased rows are overwritten in the database files and the WAL is emptied; files are removed once\n" +
          "no remaining record refers to them.",
      )
      .option("--older-than <age>", "staged mail received before this age: 180d, 12h, 30m, 2w", ageArg("--older-than"))
      // From the constants purge itself uses: the help cannot drift from what it does.
      .option("--status <status...>", `only these statuses (default ${DEFAULT_PURGE_STATUSES.join(", ")}; also ${PURGEABLE.filter((s) => !DEFAULT_PURGE_STATUSES.includes(s)).join(", ")})`)
      .option("--keep-text", "keep the conversation (interactions and actions) on its issues")
      .option("--email <address>", "erase one person: user, identifications, their issues, interactions, actions, mail, attachments, outgoing mail")
      .option("--dry-run", "say what would be removed, remove nothing"),
  ).action(async (opts) => (await import("./commands/purge.js")).run(opts));

  const outbox = program.command("outbox").description("mail this system sent (confirmations, admin notices)");
  common(
    withListOptions(
      outbox.command("list").description("list outgoing mail with its status, newest first"),
      int("--limit"),
      "only mail sent to this address, or caused by mail from it",
      "only mail whose subject contains this",
    ),
  ).action(async (opts) => (await import("./commands/outbox.js")).list(opts));
  common(
    outbox
      .command("retry")
      .description("send failed outgoing mail again now, as it was rendered, with the current transport (all failed rows with attempts left, or the ids given)")
      .argument("[ids...]", "outbound mail ids", (v: string, prev: number[] = []) => [...prev, int("id")(v)]),
  ).action(async (ids: number[] | undefined, opts) => (await import("./commands/outbox.js")).retry(ids ?? [], opts));

  program
    .command("poll")
    .description("mailbox agent: fetch mail from IMAP or POP3 and ingest each message (marked seen/moved/deleted only once staged)")
    .addArgument(new Argument("<protocol>", "imap or pop3").choices(["imap", "pop3"]))
    .requiredOption("--host <host>", "server host")
    .requiredOption("--port <port>", "server port (1-65535)", int("--port"))
    .requiredOption("--user <user>", "login user")
    .option("--password-file <file>", "file holding the password (else env INGEST_MAIL_PASSWORD)")
    .option("--tls", "connect with TLS (implicit: imaps 993, pop3s 995); without it STARTTLS / STLS is required")
    .option("--insecure-plaintext", "allow the password in clear when the server offers no STARTTLS / STLS")
    .option("--mailbox <name>", "IMAP mailbox", "INBOX")
    .option("--once", "poll once and exit")
    .option("--interval <seconds>", "poll every N seconds (1-86400) until SIGTERM", int("--interval"), 180)
    .option("--move-to <folder>", "IMAP: move processed mail to this folder instead of flagging it seen")
    .option("--db <path>", "database file (env INGEST_MAIL_DB)")
    .option("--config <path>", "JSON configuration file (env INGEST_MAIL_CONFIG)")
    .option("--json", "print a JSON summary per poll cycle")
    .action(async (protocol: string, opts) => (await import("./commands/poll.js")).run(protocol, opts));

  common(
    program
      .command("import")
      .description("ingest .eml files, folders of them, mbox files and Maildir folders in one process")
      .argument("<paths...>", "files or folders")
      .option("--workers <n>", "threads that parse ahead of the database work, 0-64 (default: one per spare CPU, at most 3; 0: none)", int("--workers"))
      .option("--send-confirmations", "send the confirmations the routes ask for (default: none: a replay must not mail real customers)"),
  ).action(
    async (paths: string[], opts) => (await import("./commands/import.js")).run(paths, opts),
  );

  const web = common(
    program
      .command("web")
      .description("serve the admin console (staged mail, issues, outbox) in a browser; loopback unless a login is set")
      .option("--listen <host:port>", "address to listen on (beyond loopback only with `web passwd` set)", "127.0.0.1:8025"),
  ).action(async (opts) => (await import("./commands/web.js")).run(opts));
  common(web.command("passwd").description("set the console's login password (read from stdin); writes its hash to the --config file")).action(async (opts) =>
    (await import("./commands/web.js")).passwd(opts),
  );
  // issue 12: the long-running LMTP delivery mode.
  common(
    program
      .command("serve")
      .summary("take mail from the MTA over LMTP and process it in one long-running process")
      .description(
        "Listen for LMTP (RFC 2033): each recipient's copy is staged durably before its 250 2.0.0 (451 4.3.0 when it could not be stored),\n" +
          "then processed in this process. SIGTERM drains and exits 0, SIGHUP re-reads the configuration, SIGUSR1 logs a status line.",
      )
      .requiredOption("--lmtp <addr>", "unix:/path/to/socket, HOST:PORT, PORT (127.0.0.1) or systemd (never port 25)")
      .option("--max-connections <n>", "sessions at once; more get 421 (default 64)", int("--max-connections"))
      .option("--max-bytes-in-flight <bytes>", "message bytes received and not yet staged; past it new transactions get 451 (default 268435456)", int("--max-bytes-in-flight"))
      .option("--queue <n>", "staged ids waiting for processing in memory; the rest wait in the database (default 10000)", int("--queue"))
      .option("--drain-timeout <seconds>", "on SIGTERM, process the queue this long at most (default 20)", int("--drain-timeout"))
      .option("--sweep-interval <seconds>", "how often records left new are picked up again (default 60)", int("--sweep-interval"))
      .option("--group-window <ms>", "at most this long a finished message waits for the others being received to share its commit (default 2; 0: one event-loop turn)", int("--group-window"))
      .option("--socket-mode <octal>", "permissions of the unix socket (default 660)")
      .option("--inline", "process on the main thread instead of a thread of its own")
      .option("--check", "check the configuration, the database and the listen address, then exit"),
  ).action(async (opts) => (await import("./commands/serve.js")).run(opts));

  registerOperate(program, common, int);
  return program;
}
