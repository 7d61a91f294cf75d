// domain.md §5 confirmations and §1.5 admin notices, end to end through the built binary with the
// file transport (every outgoing message lands as an .eml we parse back) and failing transports.
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { signIds } from "../src/rules/address-ids.js";
import { beforeEach, describe, expect, it } from "vitest";
import { count, db, injectFault, mail, readFixture, removeFault, rows, runAsync, sandbox, type RunResult, type Sandbox } from "./helpers/cli.js";

// Asynchronous runs keep this worker's event loop free (vitest's RPC times out behind a long chain of
// spawnSync on a loaded machine) and let the in-process SMTP listener answer.
const runA = (s: Sandbox, args: string[], stdin: string | Buffer = ""): Promise<RunResult> => runAsync(s, args, stdin);
async function ingestA(s: Sandbox, m: string | Buffer, args: string[] = []): Promise<any> {
  const r = await runAsync(s, ["--json", ...args], m);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  return r.json();
}

let sb: Sandbox;
let outbox: string;

const GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

function baseConfig(): Record<string, any> {
  return {
    supportAddresses: ["service@example.test", "billing@example.test"],
    routes: [
      { address: "service@example.test", kind: "ticket", queue: "service", sendResponse: true },
      { address: "billing@example.test", kind: "case", queue: "billing", sendResponse: false },
    ],
    outbound: { transport: "file", dir: outbox, from: "Customer Service <service@example.test>", host: "helpdesk.example.test" },
    limits: { confirmationsPerAddressPerDay: 2 },
  };
}

function configure(patch: Record<string, any> = {}): void {
  const c = baseConfig();
  for (const [k, v] of Object.entries(patch)) c[k] = v && typeof v === "object" && !Array.isArray(v) ? { ...c[k], ...v } : v;
  writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify(c));
}

beforeEach(() => {
  sb = sandbox();
  outbox = join(sb.dir, "outbox");
  sb.env.INGEST_MAIL_CONFIG = join(sb.dir, "config.json");
  configure();
});

const emls = () => (existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith(".eml")) : []);
const readEml = (messageId: string): Promise<ParsedMail> => simpleParser(readFileSync(join(outbox, `${messageId.replace(/^<|>$/g, "")}.eml`)));
const confirmTrace = (out: any) => out.trace.filter((t: any) => t.step === "confirm");

describe("confirmation of a new issue (domain.md §5)", () => {
  it("goes to the sender with the reference, token, Message-ID, In-Reply-To, Reply-To and Auto-Submitted", async () => {
    const out = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    expect(out.status).toBe("complete");
    const issue = rows(db(sb), "SELECT * FROM issues ORDER BY id")[0];
    expect(out.outbound).toEqual([{ kind: "confirmation", issueId: issue.id, to: "dora@customer.example", messageId: expect.any(String), status: "sent", error: null }]);
    const messageId: string = out.outbound[0].messageId;
    expect(messageId).toMatch(new RegExp(`^<${GUID}\\.${issue.guid}@helpdesk\\.example\\.test>$`));

    expect(emls()).toHaveLength(1);
    const m = await readEml(messageId);
    expect(m.messageId).toBe(messageId);
    expect(m.from?.value).toEqual([{ address: "service@example.test", name: "Customer Service" }]);
    expect(m.to && !Array.isArray(m.to) && m.to.value.map((a) => a.address)).toEqual(["dora@customer.example"]);
    expect(m.subject).toBe("[CS-000001] Re: Invoice 2291 charged twice");
    expect(m.inReplyTo).toBe("<new-request-gets-confirmation@customer.example>");
    expect(m.references).toEqual(["<earlier-thread@customer.example>", "<new-request-gets-confirmation@customer.example>"]);
    // Issue 10: the ids we hand out are signed, with the database's own secret when none is configured.
    const secret = rows(db(sb), "SELECT value FROM settings WHERE key = 'address_secret'")[0].value;
    expect(m.replyTo?.value.map((a) => a.address)).toEqual([`service+${issue.user_identification_id}-${issue.id}-${signIds(secret, issue.user_identification_id, issue.id)}@example.test`]);
    expect(m.headers.get("x-loop")).toBe("service@example.test");
    expect(m.headers.get("auto-submitted")).toBe("auto-replied");
    expect(m.text).toContain(`[ref:${issue.guid}]`);
    expect(m.text).toContain("CS-000001");

    const row = rows(db(sb), "SELECT * FROM outbound_mails ORDER BY id")[0];
    expect(row).toMatchObject({
      kind: "confirmation",
      issue_id: issue.id,
      staged_mail_id: out.stagedId,
      to_address: "dora@customer.example",
      subject: "[CS-000001] Re: Invoice 2291 charged twice",
      message_id: messageId,
      status: "sent",
      error: null,
    });
    expect(confirmTrace(out)).toEqual([{ step: "confirm", decision: "confirmation for CS-000001 sent to dora@customer.example", reason: expect.stringContaining(messageId) }]);
    // The trace is kept on the staged row too (ingest-mail show).
    expect(JSON.parse(rows(db(sb), "SELECT trace FROM staged_mails WHERE id = ?", out.stagedId)[0].trace)).toEqual(out.trace);
  });

  it("outbox list shows the mail (table and --json)", async () => {
    const out = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    const table = await runA(sb, ["outbox", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+CREATED\s+KIND\s+STATUS\s+TO\s+SUBJECT\s+ERROR/);
    expect(table.stdout).toMatch(/1\s+\S+ \S+\s+confirmation\s+sent\s+dora@customer\.example\s+\[CS-000001\] Re: Invoice 2291 charged twice/);
    const json = await runA(sb, ["outbox", "list", "--json"]);
    expect(json.json().outbound).toEqual([expect.objectContaining({ id: 1, kind: "confirmation", status: "sent", toAddress: "dora@customer.example", messageId: out.outbound[0].messageId, issueId: 1 })]);
  });

  it("with addressSecret the Reply-To carries a signature, and a reply to it matches by address-ids", async () => {
    configure({ addressSecret: "s3cret" });
    const out = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    const m = await readEml(out.outbound[0].messageId);
    const replyTo = m.replyTo!.value[0].address!;
    expect(replyTo).toMatch(/^service\+1-1-[0-9a-f]{10}@example\.test$/);
    const reply = await ingestA(sb, mail({ From: "dora@customer.example", To: replyTo, Subject: "Re: your confirmation" }), ["--recipient", replyTo]);
    expect(reply.issues).toEqual([expect.objectContaining({ issueId: 1, matchedBy: "address-ids" })]);
    expect(reply.outbound).toEqual([]);
  });

  it("a route with sendResponse false sends nothing and records nothing; the trace says why", async () => {
    const out = await ingestA(sb, mail({ From: "dora@customer.example", To: "billing@example.test", Subject: "Billing question" }));
    expect(out.issues).toEqual([expect.objectContaining({ created: true })]);
    expect(out.outbound).toEqual([]);
    expect(confirmTrace(out)).toEqual([{ step: "confirm", decision: "no confirmation for CS-000001", reason: "the route does not send a response" }]);
    expect(count(db(sb), "outbound_mails")).toBe(0);
    expect(emls()).toEqual([]);
  });

  it.each([
    ["autoreply-gets-no-confirmation.eml", "dora@customer.example", "the mail is auto-generated"],
    ["bounce-from-mailer-daemon-gets-no-confirmation.eml", "mailer-daemon@mx.customer.example", "the mail is auto-generated"],
    // detect-auto counts a no-reply sender as auto-generated, which is checked first (src/rules/confirm.ts).
    ["noreply-sender-gets-no-confirmation.eml", "no-reply@shop.example", "the mail is auto-generated"],
  ])("%s: a new issue but no confirmation (skipped row with the reason)", async (fixture, to, reason) => {
    const out = await ingestA(sb, readFixture(fixture));
    expect(out.status).toBe("complete");
    expect(out.issues).toEqual([expect.objectContaining({ created: true })]);
    expect(out.outbound).toEqual([{ kind: "confirmation", issueId: out.issues[0].issueId, to, messageId: expect.any(String), status: "skipped", error: reason }]);
    expect(confirmTrace(out)).toEqual([{ step: "confirm", decision: "no confirmation for CS-000001", reason }]);
    expect(rows(db(sb), "SELECT status, error, to_address FROM outbound_mails ORDER BY id")).toEqual([{ status: "skipped", error: reason, to_address: to }]);
    expect(emls()).toEqual([]);
  });

});

describe("rate limit: limits.confirmationsPerAddressPerDay per address per 24 h", () => {
  const from = (addr: string, subject: string) => mail({ From: addr, To: "service@example.test", Subject: subject });

  it("the N+1th new issue from the same address in a day gets no confirmation; another address still does", async () => {
    const a = await ingestA(sb, from("dora@customer.example", "First"));
    const b = await ingestA(sb, from("Dora@Customer.example", "Second"));
    const c = await ingestA(sb, from("dora@customer.example", "Third"));
    expect([a, b, c].map((o) => o.issues[0].created)).toEqual([true, true, true]);
    expect([a, b, c].map((o) => o.outbound[0].status)).toEqual(["sent", "sent", "skipped"]);
    const reason = "rate limit: 2 confirmations to dora@customer.example in the last 24 h (limit 2)";
    expect(c.outbound[0].error).toBe(reason);
    expect(confirmTrace(c)).toEqual([{ step: "confirm", decision: "no confirmation for CS-000003", reason }]);
    expect(emls()).toHaveLength(2);
    const other = await ingestA(sb, from("frank@customer.example", "Mine"));
    expect(other.outbound[0].status).toBe("sent");
    expect(emls()).toHaveLength(3);
  });

  it("skipped confirmations do not use up the allowance", async () => {
    configure({ limits: { confirmationsPerAddressPerDay: 1 } });
    expect((await ingestA(sb, readFixture("autoreply-gets-no-confirmation.eml"))).outbound[0].status).toBe("skipped");
    expect((await ingestA(sb, readFixture("new-request-gets-confirmation.eml"))).outbound[0].status).toBe("sent");
  });

  it("the window is the last 24 hours: a confirmation 23 h ago counts, one 25 h ago does not", async () => {
    configure({ limits: { confirmationsPerAddressPerDay: 1 } });
    await ingestA(sb, from("dora@customer.example", "First")); // creates the database
    const d = db(sb);
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
    d.run("UPDATE outbound_mails SET created_at = ?", hoursAgo(25));
    expect((await ingestA(sb, from("dora@customer.example", "Second"))).outbound[0].status).toBe("sent");
    d.run("UPDATE outbound_mails SET created_at = ? WHERE id = 2", hoursAgo(23));
    expect((await ingestA(sb, from("dora@customer.example", "Third"))).outbound[0]).toMatchObject({ status: "skipped", error: expect.stringMatching(/^rate limit: 1 confirmations/) });
  });

  it("a limit of 0 turns confirmations off for everyone", async () => {
    configure({ limits: { confirmationsPerAddressPerDay: 0 } });
    expect((await ingestA(sb, readFixture("new-request-gets-confirmation.eml"))).outbound[0]).toMatchObject({ status: "skipped", error: expect.stringMatching(/^rate limit/) });
  });
});

describe("transports", () => {
  it("sendmail (default transport) pipes the message to outbound.path with -i -f FROM -- TO", async () => {
    const script = join(sb.dir, "fake-sendmail");
    const capture = join(sb.dir, "sendmail-capture");
    writeFileSync(script, `#!/bin/sh\necho "$@" > '${capture}.args'\ncat > '${capture}.eml'\n`);
    chmodSync(script, 0o755);
    configure({ outbound: { transport: "sendmail", path: script, dir: undefined } });
    const out = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    expect(out.outbound[0]).toMatchObject({ status: "sent", error: null });
    // issue 13: the envelope sender is the confirmation's VERP bounce address, signed with the database's secret.
    expect(readFileSync(`${capture}.args`, "utf8").trim()).toMatch(/^-i -f service\+bounce-1-[0-9a-f]{10}@example\.test -- dora@customer\.example$/);
    const raw = readFileSync(`${capture}.eml`, "utf8");
    expect(raw).toContain("Auto-Submitted: auto-replied");
    expect(raw).toContain(out.outbound[0].messageId);
  });

  it("smtp delivers to outbound.url (a loopback SMTP listener)", async () => {
    const received: string[] = [];
    const commands: string[] = [];
    const server = createServer((sock) => {
      let data = false;
      let buf = "";
      sock.write("220 test ESMTP\r\n");
      sock.on("data", (chunk) => {
        buf += chunk.toString("latin1");
        let i: number;
        while ((i = data ? buf.indexOf("\r\n.\r\n") : buf.indexOf("\r\n")) >= 0) {
          if (data) {
            received.push(buf.slice(0, i));
            buf = buf.slice(i + 5);
            data = false;
            sock.write("250 queued\r\n");
            continue;
          }
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          commands.push(line);
          if (/^EHLO/i.test(line)) sock.write("250-test\r\n250 DSN\r\n");
          else if (/^DATA/i.test(line)) (data = true), sock.write("354 go\r\n");
          else if (/^QUIT/i.test(line)) sock.end("221 bye\r\n");
          else sock.write("250 ok\r\n");
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      configure({ outbound: { transport: "smtp", url: `smtp://127.0.0.1:${port}`, dir: undefined } });
      const r = await runA(sb, ["--json"], readFixture("new-request-gets-confirmation.eml"));
      expect(r.code).toBe(0);
      expect(r.json().outbound[0]).toMatchObject({ status: "sent", error: null });
      expect(received).toHaveLength(1);
      expect(received[0]).toContain("Subject: [CS-000001] Re: Invoice 2291 charged twice");
      // issue 13: MAIL FROM is the VERP bounce address; the relay speaks DSN, so RET=HDRS and ENVID go too.
      const envid = r.json().outbound[0].messageId.replace(/^<|>$/g, "");
      expect(commands.find((c) => /^MAIL FROM/i.test(c))).toMatch(new RegExp(`^MAIL FROM:<service\\+bounce-1-[0-9a-f]{10}@example\\.test> RET=HDRS ENVID=${envid.replace(/[.]/g, "\\.")}$`));
    } finally {
      server.close();
    }
  });

  it.each([
    ["sendmail exiting 1", "fail", /sendmail exited with 1/],
    ["a missing sendmail binary", "missing", /ENOENT/],
    ["smtp to a closed loopback port", "smtp", /ECONNREFUSED/],
  ])("%s: exit 0, status complete, the outbox row is failed with the error", async (_name, kind, error) => {
    if (kind === "fail") {
      const script = join(sb.dir, "failing-sendmail");
      writeFileSync(script, "#!/bin/sh\ncat >/dev/null\necho 'relay refused' >&2\nexit 1\n");
      chmodSync(script, 0o755);
      configure({ outbound: { transport: "sendmail", path: script } });
    } else if (kind === "missing") {
      configure({ outbound: { transport: "sendmail", path: join(sb.dir, "no-such-sendmail") } });
    } else {
      const port = await closedPort();
      configure({ outbound: { transport: "smtp", url: `smtp://127.0.0.1:${port}` } });
    }
    const r = await runA(sb, ["--json"], readFixture("new-request-gets-confirmation.eml"));
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.status).toBe("complete");
    expect(out.issues).toEqual([expect.objectContaining({ created: true, reference: "CS-000001" })]);
    expect(out.outbound).toEqual([expect.objectContaining({ kind: "confirmation", status: "failed", error: expect.stringMatching(error) })]);
    expect(confirmTrace(out)).toEqual([{ step: "confirm", decision: "confirmation for CS-000001 to dora@customer.example failed", reason: expect.stringMatching(error) }]);
    const d = db(sb);
    expect(rows(d, "SELECT status FROM staged_mails ORDER BY id")).toEqual([{ status: "complete" }]);
    expect(rows(d, "SELECT status, error FROM outbound_mails ORDER BY id")).toEqual([{ status: "failed", error: expect.stringMatching(error) }]);
    expect(count(d, "actions")).toBe(1);
    const list = await runA(sb, ["outbox", "list"]);
    expect(list.stdout).toMatch(/confirmation\s+failed\s+dora@customer\.example/);
    // A failed attempt still counts toward the limit (a broken relay must not be hammered).
    expect((await runA(sb, ["--json"], mail({ From: "dora@customer.example", To: "service@example.test", Subject: "Again" }))).json().outbound[0].status).toBe("failed");
    expect((await runA(sb, ["--json"], mail({ From: "dora@customer.example", To: "service@example.test", Subject: "And again" }))).json().outbound[0].status).toBe("skipped");
  });
});

describe("admin notice on an error status (Maximo, domain.md §1.5)", () => {
  // A fault the database raises mid-workflow, from outside the product: no test hook in the code.
  const fault = { name: "fail_actions", table: "actions", on: "INSERT", message: "simulated fault" };
  const breakWorkflow = () => injectFault(db(sb), fault);

  it("mails adminAddress what failed and how to resubmit; recorded in the outbox; resubmit then completes", async () => {
    configure({ adminAddress: "Helpdesk Admin <helpdesk-admin@example.test>" });
    await ingestA(sb, mail({ From: "frank@customer.example", To: "billing@example.test", Subject: "first" }));
    breakWorkflow();
    const r = await runA(sb, ["--json"], readFixture("new-request-gets-confirmation.eml"));
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.status).toBe("error");
    expect(out.outbound).toEqual([{ kind: "admin-error", issueId: null, to: "helpdesk-admin@example.test", messageId: expect.stringMatching(new RegExp(`^<${GUID}@helpdesk\\.example\\.test>$`)), status: "sent", error: null }]);
    const m = await readEml(out.outbound[0].messageId);
    expect(m.to && !Array.isArray(m.to) && m.to.value[0].address).toBe("helpdesk-admin@example.test");
    expect(m.subject).toBe(`[ingest-mail] staged mail ${out.stagedId} failed: simulated fault`);
    expect(m.headers.get("auto-submitted")).toBe("auto-generated");
    expect(m.text).toContain("Error:      simulated fault");
    expect(m.text).toContain("Subject:    Invoice 2291 charged twice");
    expect(m.text).toContain(`ingest-mail resubmit ${out.stagedId} --db ${sb.db}`);
    const d = db(sb);
    expect(rows(d, "SELECT kind, staged_mail_id, to_address, status FROM outbound_mails ORDER BY id")).toEqual([
      { kind: "admin-error", staged_mail_id: out.stagedId, to_address: "helpdesk-admin@example.test", status: "sent" },
    ]);
    // The customer got nothing: the issue was rolled back with the rest of the workflow.
    expect(count(d, "issues")).toBe(1);

    removeFault(d, fault);
    const again = await runA(sb, ["resubmit", String(out.stagedId), "--json"]);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ status: "complete", outbound: [{ kind: "confirmation", status: "sent" }] });
  });

  it("without adminAddress: no mail, a line in the log file", async () => {
    const logFile = join(sb.dir, "ingest.log");
    configure({ logFile });
    await ingestA(sb, mail({ From: "frank@customer.example", To: "billing@example.test", Subject: "first" }));
    breakWorkflow();
    const out = await ingestA(sb, readFixture("new-request-gets-confirmation.eml"));
    expect(out).toMatchObject({ status: "error", outbound: [] });
    expect(count(db(sb), "outbound_mails")).toBe(0);
    expect(emls()).toEqual([]);
    expect(readFileSync(logFile, "utf8")).toMatch(new RegExp(`staged mail ${out.stagedId} error: .*simulated fault`));
  });

  // Issue 10: the notice and the log line quote the mail; its escapes, NEL and bidi overrides are shown as escapes.
  it("the notice's body and the log line show the mail's controls as escapes", async () => {
    const logFile = join(sb.dir, "ingest.log");
    configure({ adminAddress: "helpdesk-admin@example.test", logFile });
    await ingestA(sb, mail({ From: "frank@customer.example", To: "billing@example.test", Subject: "first" }));
    breakWorkflow();
    const hostile = mail({ From: "\u202egpj.exe\u0085x@customer.example", To: "billing@example.test", Subject: "\u001b]8;;http://evil.example/\u0007click\u001b[31m \u202efdp.exe", "Message-ID": "<\u001b[2Jid@customer.example>" });
    const out = await ingestA(sb, Buffer.from(hostile, "utf8"));
    expect(out.status).toBe("error");
    const m = await readEml(out.outbound[0].messageId);
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
    expect(m.text).not.toMatch(raw);
    expect(m.text).toContain("Subject:    \\x1b]8;;http://evil.example/\\x07click\\x1b[31m \\u202efdp.exe");
    const log = readFileSync(logFile, "utf8");
    expect(log.split("\n").filter(Boolean).every((line) => !raw.test(line))).toBe(true);
    expect(log).toContain(`staged mail ${out.stagedId} error`);
  });

  it("a notice that cannot be sent is recorded as failed and the ingest still exits 0", async () => {
    configure({ adminAddress: "helpdesk-admin@example.test", outbound: { transport: "sendmail", path: join(sb.dir, "no-such-sendmail") } });
    await ingestA(sb, mail({ From: "frank@customer.example", To: "billing@example.test", Subject: "first" }));
    breakWorkflow();
    const r = await runA(sb, ["--json"], readFixture("new-request-gets-confirmation.eml"));
    expect(r.code).toBe(0);
    expect(r.json().outbound).toEqual([expect.objectContaining({ kind: "admin-error", status: "failed", error: expect.stringMatching(/ENOENT/) })]);
    expect(rows(db(sb), "SELECT status FROM outbound_mails ORDER BY id")).toEqual([{ status: "failed" }]);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
