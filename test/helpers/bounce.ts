// issue 13: a database with one confirmation sent, for the bounce tests.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Sandbox } from "./cli.js";
import { configured, feed, fill } from "./setup.js";

const SECRET = "bounce-test-secret";
const confirming = (dir: string) => ({
  defaultRoute: { kind: "ticket", queue: "general", sendResponse: true },
  outbound: { transport: "file", dir: join(dir, "outbox"), from: "Customer Service <service@example.test>" },
  addressSecret: SECRET,
});

export interface Confirmed {
  sb: Sandbox;
  messageId: string;
  /** The envelope sender the confirmation went out with (the Return-Path the file transport records). */
  bounceAddress: string;
}

/** A new request on a confirming route: CS-000001 is opened and its confirmation is in the outbox. */
export async function confirmed(): Promise<Confirmed> {
  const sb = configured(confirming);
  const out = await feed(sb, fill("new-request-gets-confirmation.eml"));
  expect(out.outbound).toMatchObject([{ kind: "confirmation", status: "sent" }]);
  const outbox = join(sb.dir, "outbox");
  const eml = readFileSync(join(outbox, readdirSync(outbox)[0]), "utf8");
  const bounceAddress = /^Return-Path: <([^>]+)>/.exec(eml)?.[1] ?? "";
  return { sb, messageId: out.outbound[0].messageId, bounceAddress };
}

