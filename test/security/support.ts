// Issue 10: a sandbox set up as a helpdesk facing the internet: confirmations on, the file
// transport, our MTA's authserv-id trusted.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { initDb, sandbox, type Sandbox } from "../helpers/cli.js";

export interface Desk extends Sandbox {
  outbox: string;
  config: string;
  emls(): string[];
  readEml(file: string): Promise<ParsedMail>;
}

export function desk(patch: Record<string, unknown> = {}, opts: { init?: boolean } = {}): Desk {
  const sb = sandbox();
  const outbox = join(sb.dir, "outbox");
  const config = join(sb.dir, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      supportAddresses: ["service@example.test"],
      routes: [{ address: "service@example.test", kind: "ticket", sendResponse: true }],
      outbound: { transport: "file", dir: outbox, from: "Customer Service <service@example.test>", host: "helpdesk.example.test" },
      trustedAuthservId: "mx.example.test",
      ...patch,
    }),
  );
  sb.env.INGEST_MAIL_CONFIG = config;
  if (opts.init !== false) initDb(sb);
  const emls = () => (existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith(".eml")).sort() : []);
  return { ...sb, outbox, config, emls, readEml: (f) => simpleParser(readFileSync(join(outbox, f))) };
}

/** A plain mail; headers override the defaults. */
export function letter(h: Record<string, string>, body = "Hello.\n"): string {
  const headers: Record<string, string> = { From: "dora@customer.example", To: "service@example.test", Subject: "Question", "Message-ID": `<${Math.random().toString(36).slice(2)}@customer.example>`, Date: "Mon, 01 Jan 2024 10:00:00 +0000", ...h };
  return `${Object.entries(headers)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n\n${body}`;
}
