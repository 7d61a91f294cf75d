// The ingest command's options, defined once: program.ts gives them to commander, and plainIngest()
// reads the MTA's plain call with node's own parseArgs, so the message path never loads commander
// (~15 ms of every cold start, issue 5). Anything plainIngest is not sure of goes to commander.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { IngestOptions } from "./commands/ingest.js";

export interface OptionDef {
  /** commander's flags: `--name` (boolean) or `--name <value>` */
  flags: string;
  description: string;
}

/** On the program and on every command but poll: `ingest-mail --db x list` works too. */
export const COMMON_OPTIONS: readonly OptionDef[] = [
  { flags: "--db <path>", description: "database file (env INGEST_MAIL_DB; default ~/.local/share/ingest-mail/ingest-mail.db)" },
  { flags: "--config <path>", description: "JSON configuration file (env INGEST_MAIL_CONFIG; else /etc/ingest-mail/config.json, else ~/.config/ingest-mail/config.json)" },
  { flags: "--json", description: "print one JSON object on stdout" },
];

export const INGEST_COMMAND = "ingest";

export const INGEST_ARGUMENT = { name: "[recipient]", description: 'envelope recipient (procmail "$1"); same as --recipient' };

/** The ingest command's own options (it has COMMON_OPTIONS as well). */
export const INGEST_OPTIONS: readonly OptionDef[] = [
  { flags: "--recipient <addr>", description: "envelope recipient (else ORIGINAL_RECIPIENT / RECIPIENT, else Delivered-To, X-Original-To, To, Cc)" },
  { flags: "--sender <addr>", description: "envelope sender (Postfix ${sender}; empty for bounces)" },
];

interface Parsed {
  /** commander's option key (camelCase) */
  key: string;
  common: boolean;
  type: "string" | "boolean";
}

/** Only the plain long forms; a flag in any other form (short, optional value, --no-) keeps its command on commander. */
function parsedOptions(): Map<string, Parsed> {
  const out = new Map<string, Parsed>();
  for (const [defs, common] of [
    [COMMON_OPTIONS, true],
    [INGEST_OPTIONS, false],
  ] as const) {
    for (const d of defs) {
      const m = /^--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)( <[^<>\s]+>)?$/.exec(d.flags);
      if (!m || m[1].startsWith("no-")) throw new Error(`ingest-args: cannot read ${d.flags} without commander`);
      out.set(m[1], { key: m[1].replace(/-(.)/g, (_, c: string) => c.toUpperCase()), common, type: m[2] ? "string" : "boolean" });
    }
  }
  return out;
}

/**
 * The MTA's call, `ingest-mail [ingest] [recipient] [--recipient X] [--sender Y] [--db P] [--config P]
 * [--json]` (args: argv without node and script), read exactly as commander reads it; null for
 * anything else (help, version, other commands, errors, or any doubt), which commander then handles.
 * The recipient must contain "@" (or be empty), so it can never be taken for a command name.
 */
export function plainIngest(args: string[]): { recipient: string | undefined; opts: IngestOptions } | null {
  let options: Map<string, Parsed>;
  let tokens: NonNullable<ReturnType<typeof parseArgs>["tokens"]>;
  let values: Record<string, string | boolean | undefined>;
  try {
    options = parsedOptions();
    const config: ParseArgsConfig = { args, strict: true, allowPositionals: true, tokens: true, options: {} };
    for (const [name, o] of options) config.options![name] = { type: o.type };
    ({ tokens, values } = parseArgs(config) as { tokens: typeof tokens; values: typeof values });
  } catch {
    return null;
  }
  const positionals: string[] = [];
  let commandWord = false;
  let ingestOnlyOptionSeen = false;
  for (const t of tokens) {
    if (t.kind === "option-terminator") return null;
    if (t.kind === "option") ingestOnlyOptionSeen ||= !options.get(t.name)!.common;
    // commander takes the command word only as the first operand, and only before any option the
    // program itself does not have (from there on, everything goes to the default command as is).
    else if (!commandWord && !positionals.length && !ingestOnlyOptionSeen && t.value === INGEST_COMMAND) commandWord = true;
    else positionals.push(t.value);
  }
  const [recipient] = positionals;
  if (positionals.length > 1 || (recipient !== undefined && recipient !== "" && !recipient.includes("@"))) return null;
  const opts: Record<string, string | boolean> = {};
  for (const [name, o] of options) if (values[name] !== undefined) opts[o.key] = values[name]!;
  return { recipient, opts: opts as IngestOptions };
}
