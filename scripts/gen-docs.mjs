// Generates the man page (dist/man/ingest-mail.1) and the bash and zsh completions
// (dist/completion/ingest-mail.bash, dist/completion/_ingest-mail) from the commander command
// definitions in src/cli/program.ts (via tsc's dist/src), so they cannot drift from the CLI. Run
// by `npm run build`, after tsc. Installed with the package: package.json `man` and `files`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const { build } = await import("../dist/src/cli/program.js");
const program = build(async () => {});
const version = JSON.parse(readFileSync("package.json", "utf8")).version;

/** Every command with its path ("issue show"), options and arguments, depth first. */
function walk(cmd, path = []) {
  const options = [...cmd.options.filter((o) => !o.hidden), { flags: "-h, --help", long: "--help", description: "display help for command" }];
  const node = {
    path,
    name: cmd.name(),
    summary: cmd.summary() || cmd.description().split("\n")[0],
    description: cmd.description(),
    args: cmd.registeredArguments ?? [],
    options,
    children: cmd.commands.filter((c) => !c._hidden).map((c) => walk(c, [...path, c.name()])),
  };
  return node;
}
const tree = walk(program);
const all = [];
(function flat(n) {
  all.push(n);
  n.children.forEach(flat);
})(tree);

const takesFile = (o) => /<(path|file|dir)[^>]*>/.test(o.flags);
const argText = (a) => (a.required ? `<${a.name()}${a.variadic ? "..." : ""}>` : `[${a.name()}${a.variadic ? "..." : ""}]`);

// ---- man page (roff, man(7) macros) ----
const roff = (s) =>
  String(s)
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1");
const man = [];
man.push(`.TH INGEST\\-MAIL 1 "" "ingest-mail ${version}" "User Commands"`);
man.push(".SH NAME", `ingest\\-mail \\- ${roff(program.description().split(".")[0].replace(/^T/, "t"))}`);
man.push(".SH SYNOPSIS", ".B ingest\\-mail", "[\\fIrecipient\\fR] [\\fIoptions\\fR] < \\fImessage\\fR", ".br", ".B ingest\\-mail", "\\fIcommand\\fR [\\fIoptions\\fR]");
man.push(".SH DESCRIPTION", roff(program.description()));
man.push(".SH OPTIONS");
for (const o of tree.options) man.push(".TP", `.B ${roff(o.flags)}`, roff(o.description));
man.push(".SH COMMANDS");
for (const n of all.slice(1)) {
  const usage = [`ingest-mail ${n.path.join(" ")}`, ...n.args.map(argText), n.children.length ? "<command>" : "[options]"].join(" ");
  man.push(`.SS "${roff(usage)}"`, roff(n.description || n.summary));
  for (const a of n.args) {
    const choices = a.argChoices ? ` (one of: ${a.argChoices.join(", ")})` : "";
    man.push(".TP", `.I ${roff(a.name())}`, roff(`${a.description}${choices}`));
  }
  if (n.children.length) man.push(".PP", roff(`Commands: ${n.children.map((c) => c.name).join(", ")}.`));
  else
    for (const o of n.options) {
      const extra = [o.argChoices ? `one of: ${o.argChoices.join(", ")}` : "", o.defaultValue !== undefined && typeof o.defaultValue !== "boolean" ? `default: ${o.defaultValue}` : ""].filter(Boolean).join("; ");
      man.push(".TP", `.B ${roff(o.flags)}`, roff(extra ? `${o.description} (${extra})` : o.description));
    }
}
man.push(
  ".SH EXIT STATUS",
  ".TP", ".B 0", "the message is staged, whatever its final status (admin commands: done)",
  ".TP", ".B 64", "bad usage",
  ".TP", ".B 66", "no such record",
  ".TP", ".B 70", "internal fault (admin commands)",
  ".TP", ".B 75", "could not store the message (database locked, read-only, disk full): the MTA keeps it and retries",
  ".TP", ".B 78", roff("bad configuration (the message names the key); doctor: a check failed"),
  ".SH ENVIRONMENT",
  ".TP", ".B INGEST_MAIL_DB", "the database file (else --db, else $XDG_DATA_HOME/ingest-mail/ingest-mail.db)",
  ".TP", ".B INGEST_MAIL_CONFIG", "the configuration file (after --config)",
  ".TP", ".B INGEST_MAIL_SYSTEM_CONFIG", roff("where the system configuration file is looked for (default /etc/ingest-mail/config.json)"),
  ".TP", ".B INGEST_MAIL_PASSWORD", "the mailbox password for poll (else --password-file)",
  ".TP", ".B NO_COLOR", "no colour in list and show output",
  ".SH FILES",
  ".TP", ".I /etc/ingest-mail/config.json", "system configuration, read when neither --config nor INGEST_MAIL_CONFIG names one",
  ".TP", ".I $XDG_CONFIG_HOME/ingest-mail/config.json", roff("the user's configuration (~/.config), read when there is no system file"),
  ".TP", ".I $XDG_DATA_HOME/ingest-mail/ingest-mail.db", roff("the default database (~/.local/share); attachments/ and spool/ next to it"),
  ".SH SEE ALSO",
  "procmail(1), pipe(8), sysexits(3)",
);
mkdirSync("dist/man", { recursive: true });
writeFileSync(join("dist", "man", "ingest-mail.1"), `${man.join("\n")}\n`);

// ---- completions ----
const sq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const key = (n) => n.path.join(" ");
const longs = (n) => n.options.map((o) => o.long).filter(Boolean);
const choiceCases = [];
const fileCases = [];
for (const n of all) {
  for (const o of n.options) {
    if (!o.long) continue;
    if (o.argChoices) choiceCases.push([`${key(n)}|${o.long}`, o.argChoices]);
    else if (takesFile(o)) fileCases.push(`${key(n)}|${o.long}`);
  }
}
const commandPaths = all.slice(1).map(key);

const bash = `# bash completion for ingest-mail ${version}: generated by scripts/gen-docs.mjs from the commander
# definitions; do not edit. Load it with: source <(ingest-mail completion bash)
_ingest_mail() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" w i next
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    next="\${path:+$path }$w"
    case "$next" in
      ${commandPaths.map(sq).join("|")}) path="$next" ;;
    esac
  done
  case "$path|$prev" in
${choiceCases.map(([k, c]) => `    ${sq(k)}) COMPREPLY=($(compgen -W ${sq(c.join(" "))} -- "$cur")); return ;;`).join("\n")}
    ${fileCases.map(sq).join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  local words=""
  case "$path" in
${all.map((n) => `    ${sq(key(n))}) words=${sq([...(cur_is_cmds(n) ? n.children.map((c) => c.name) : []), ...longs(n)].join(" "))} ;;`).join("\n")}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else COMPREPLY=($(compgen -W "$(printf '%s\\n' $words | grep -v '^-')" -- "$cur")); fi
}
complete -o default -F _ingest_mail ingest-mail
`;
function cur_is_cmds(n) {
  return n.children.length > 0;
}

const zq = (s) => sq(String(s).replace(/:/g, "\\:"));
const zsh = `#compdef ingest-mail
# zsh completion for ingest-mail ${version}: generated by scripts/gen-docs.mjs from the commander
# definitions; do not edit. Put it on $fpath as _ingest-mail, or: source <(ingest-mail completion zsh)
_ingest-mail() {
  local p="" w i next prev="\${words[CURRENT-1]}"
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    [[ $w == -* ]] && continue
    next="\${p:+$p }$w"
    case "$next" in
      (${commandPaths.map(sq).join("|")}) p="$next" ;;
    esac
  done
  case "$p|$prev" in
${choiceCases.map(([k, c]) => `    (${sq(k)}) compadd -- ${c.map(sq).join(" ")}; return ;;`).join("\n")}
    (${fileCases.map(sq).join("|")}) _files; return ;;
  esac
  local -a cmds opts
  case "$p" in
${all.map((n) => `    (${sq(key(n))}) cmds=(${n.children.map((c) => zq(`${c.name}:${c.summary}`)).join(" ")}); opts=(${n.options.filter((o) => o.long).map((o) => zq(`${o.long}:${o.description}`)).join(" ")}) ;;`).join("\n")}
  esac
  if [[ $PREFIX == -* || \${#cmds} -eq 0 ]]; then
    _describe -t options option opts
    (( \${#cmds} )) || _files
  else
    _describe -t commands command cmds
  fi
}
# Autoloaded from $fpath, this file is the body of _ingest-mail: run it. Sourced: register it.
if [ "$funcstack[1]" = "_ingest-mail" ]; then _ingest-mail "$@"; else compdef _ingest-mail ingest-mail; fi
`;
mkdirSync("dist/completion", { recursive: true });
writeFileSync(join("dist", "completion", "ingest-mail.bash"), bash);
writeFileSync(join("dist", "completion", "_ingest-mail"), zsh);
