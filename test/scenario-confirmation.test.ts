// The issue's scenario, one conversation end to end: a new mail gets a confirmation (file transport);
// each way a customer can answer it finds the issue again (domain.md §3), and a stranger who only
// knows the reference does not (the reference is guessable, §3 last paragraph).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { count, db, readFixture, rows, runAsync, sandbox, type Sandbox } from "./helpers/cli.js";

// Asynchronous so a loaded machine cannot starve vitest's worker RPC behind a chain of spawnSync.
async function ingestA(s: Sandbox, m: string | Buffer, args: string[] = []): Promise<any> {
  const r = await runAsync(s, ["--json", ...args], m);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  return r.json();
}

const fill = (name: string, values: Record<string, string>) =>
  Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{{${k}}}`, v), readFixture(name).toString("utf8"));

describe("scenario: confirmation → replies", () => {
  it("in-reply-to, body token and Reply-To find the issue; a stranger's subject reference does not", async () => {
    const sb = sandbox();
    const outbox = join(sb.dir, "outbox");
    sb.env.INGEST_MAIL_CONFIG = join(sb.dir, "config.json");
    writeFileSync(
      sb.env.INGEST_MAIL_CONFIG,
      JSON.stringify({
        supportAddresses: ["service@example.test"],
        routes: [{ address: "service@example.test", kind: "ticket", queue: "service", sendResponse: true }],
        outbound: { transport: "file", dir: outbox, from: "service@example.test", host: "helpdesk.example.test" },
      }),
    );

    // 1. A new mail opens CS-000001 and its confirmation is written to the outbox.
    const first = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    expect(first.issues).toEqual([expect.objectContaining({ issueId: 1, reference: "CS-000001", created: true })]);
    expect(first.outbound).toEqual([expect.objectContaining({ status: "sent", to: "dora@customer.example" })]);
    expect(readdirSync(outbox)).toHaveLength(1);
    const confirmation = await simpleParser(readFileSync(join(outbox, readdirSync(outbox)[0])));
    expect(confirmation.messageId).toBe(first.outbound[0].messageId);
    const token = /\[ref:[0-9a-f-]{36}\]/.exec(confirmation.text ?? "")![0];
    const replyTo = confirmation.replyTo!.value[0].address!;

    // 2. The customer answers the confirmation: its Message-ID in In-Reply-To names the issue.
    const reply = await ingestA(sb, fill("reply-to-confirmation-in-reply-to.eml", { IN_REPLY_TO: confirmation.messageId!, SUBJECT: confirmation.subject! }));
    expect(reply.status).toBe("complete");
    expect(reply.issues).toEqual([expect.objectContaining({ issueId: 1, created: false, matchedBy: "in-reply-to" })]);
    expect(reply.trace).toContainEqual({ step: "match", decision: "matched CS-000001 by in-reply-to", reason: `In-Reply-To ${confirmation.messageId}` });
    expect(reply.outbound).toEqual([]); // an existing issue is not confirmed again

    // 3. Someone who only quotes the token in the body (new subject, no threading headers) lands there too.
    const quoted = await ingestA(sb, fill("reply-quoting-only-the-token.eml", { TOKEN: token }));
    expect(quoted.issues).toEqual([expect.objectContaining({ issueId: 1, created: false, matchedBy: "body-token" })]);

    // 4. A reply to the Reply-To address (as Postfix passes ${recipient}) matches by the ids in it.
    const viaReplyTo = await ingestA(
      sb,
      fill("reply-to-confirmation-in-reply-to.eml", { IN_REPLY_TO: "<unrelated@customer.example>", SUBJECT: "something else" }).replace(
        "<reply-to-confirmation-in-reply-to@customer.example>",
        "<reply-via-reply-to@customer.example>",
      ),
      ["--recipient", replyTo],
    );
    expect(viaReplyTo.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "address-ids" })]);

    // 5. A stranger with only the subject reference opens a new issue; the trace says it was ignored.
    const stranger = await ingestA(sb, fill("stranger-quotes-reference-in-subject.eml", { REFERENCE: "CS-000001" }));
    expect(stranger.issues).toEqual([expect.objectContaining({ issueId: 2, reference: "CS-000002", created: true, matchedBy: null })]);
    expect(stranger.trace).toContainEqual({
      step: "match",
      decision: "ignored subject-reference",
      reason: "subject names CS-000001, but the sender is not the customer or a participant of CS-000001",
    });
    expect(stranger.outbound).toEqual([expect.objectContaining({ status: "sent", to: "mallory@elsewhere.example" })]);

    const d = db(sb);
    expect(rows(d, "SELECT issue_id FROM actions ORDER BY id").map((r) => r.issue_id)).toEqual([1, 1, 1, 1, 2]);
    expect(count(d, "outbound_mails", "status = 'sent'")).toBe(2);
  });
});
