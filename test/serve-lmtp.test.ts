// issue 12: `ingest-mail serve` speaking LMTP (RFC 2033), tested against the running daemon (the
// built binary) with a raw client: LHLO, pipelining, per-recipient replies with one recipient's
// storage failing, SIZE, RSET, bad commands, a client that drops mid-DATA, 8-bit and SMTPUTF8 mail.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bin, count, db, holdWriteLock, injectFault, LOCKED, mail, readFixture, removeFault, rows, runAsync, type Sandbox } from "./helpers/cli.js";
import { dataOf, deliver, LmtpClient, startDaemon, until, type RunningDaemon } from "./helpers/lmtp.js";
import { configured } from "./helpers/setup.js";

const running: RunningDaemon[] = [];
const clients: LmtpClient[] = [];

async function daemon(sb: Sandbox, extra: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon(sb, extra);
  running.push(d);
  return d;
}

async function client(d: RunningDaemon, lhlo = true): Promise<LmtpClient> {
  const c = await LmtpClient.connect(d.socket);
  clients.push(c);
  const [greeting] = await c.read(1);
  expect(greeting.code).toBe(220);
  if (lhlo) expect((await c.command("LHLO mta.example.test")).code).toBe(250);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const d of running.splice(0)) await d.stop("SIGKILL");
});

const staged = (sb: Sandbox, where = "1=1") => {
  const d = db(sb);
  try {
    return rows(d, `SELECT id, status, envelope_recipient AS rcpt, envelope_sender AS sender, subject, text_body AS text, source FROM staged_mails WHERE ${where} ORDER BY id`);
  } finally {
    d.close();
  }
};

const message = (subject: string, extra: Record<string, string> = {}) => mail({ From: "Ada Lovelace <ada@customer.test>", To: "service@example.test", Subject: subject, ...extra }, `Body of ${subject}.\n`);

describe("LHLO and the session", () => {
  it("greets as LMTP and announces PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SMTPUTF8 and SIZE (the configured limit)", async () => {
    const sb = configured({ limits: { confirmationsPerAddressPerDay: 5, maxMessageBytes: 123456 } });
    const d = await daemon(sb);
    const c = await LmtpClient.connect(d.socket);
    clients.push(c);
    const [greeting] = await c.read(1);
    expect(greeting.line).toMatch(/^220 .*LMTP/);
    const lhlo = await c.command("LHLO mta.example.test");
    expect(lhlo.code).toBe(250);
    expect(lhlo.lines).toEqual(expect.arrayContaining(["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "SIZE 123456"]));
    // Not offered on a local delivery socket.
    expect(lhlo.lines.join(" ")).not.toMatch(/STARTTLS|AUTH/);
    // --socket-mode (default 660): Postfix gets in through the group, nobody else.
    expect(statSync(d.socket).mode & 0o777).toBe(0o660);
  });

  it("refuses EHLO and HELO (RFC 2033 §4.1: LHLO only) and commands before LHLO", async () => {
    const d = await daemon(configured());
    const c = await client(d, false);
    expect((await c.command("EHLO mta.example.test")).code).toBe(500);
    expect((await c.command("HELO mta.example.test")).code).toBe(500);
    expect((await c.command("MAIL FROM:<a@x.test>")).line).toMatch(/^503 5\.5\.1/);
    expect((await c.command("LHLO mta.example.test")).code).toBe(250);
  });

  it("answers bad commands and bad sequences with 5xx and keeps the session usable", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    expect((await c.command("FROBNICATE")).line).toMatch(/^500 5\.5\.2/);
    expect((await c.command("RCPT TO:<service@example.test>")).line).toMatch(/^503 5\.5\.1/);
    expect((await c.command("DATA")).line).toMatch(/^503 5\.5\.1/);
    expect((await c.command("MAIL FROM:<a@x.test")).line).toMatch(/^501 /);
    expect((await c.command("MAIL FROM:<a@x.test>")).code).toBe(250);
    expect((await c.command("RCPT TO:<not an address>")).code).toBeGreaterThanOrEqual(500);
    expect((await c.command("DATA")).line).toMatch(/^503 /); // no valid recipient yet
    expect((await c.command("RCPT TO:<service@example.test>")).code).toBe(250);
    expect((await c.command("DATA")).code).toBe(354);
    c.write(dataOf(message("after the bad commands")));
    const [r] = await c.read(1);
    expect(r.line).toMatch(/^250 2\.0\.0 /);
    expect(staged(sb)).toHaveLength(1);
  });

  it("past 100 recipients in one transaction: 452 (send the rest later), the first 100 are staged", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    const to = Array.from({ length: 101 }, (_, i) => `service+${i}@example.test`);
    const t = await deliver(c, "a@x.test", to, message("many recipients"));
    expect(t.rcpt.slice(0, 100).every((r) => r.code === 250)).toBe(true);
    expect(t.rcpt[100].line).toMatch(/^452 /);
    expect(t.results).toHaveLength(100);
    expect(t.results.every((r) => r.code === 250)).toBe(true);
    expect(staged(sb)).toHaveLength(100);
  });

  it("RSET drops the transaction: nothing of it is staged, the next one is", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    expect((await c.command("MAIL FROM:<a@x.test>")).code).toBe(250);
    expect((await c.command("RCPT TO:<service@example.test>")).code).toBe(250);
    expect((await c.command("RSET")).line).toMatch(/^250 2\.0\.0/);
    expect((await c.command("DATA")).line).toMatch(/^503 /);
    const t = await deliver(c, "b@x.test", ["billing@example.test"], message("after RSET"));
    expect(t.results.map((r) => r.code)).toEqual([250]);
    expect(staged(sb).map((s) => [s.rcpt, s.sender])).toEqual([["billing@example.test", "b@x.test"]]);
  });
});

describe("transactions", () => {
  it("takes pipelined commands and two transactions in one session, one reply per recipient after DATA", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    // MAIL, RCPT, RCPT, DATA in one write (RFC 2920), then the message and the next transaction's
    // MAIL/RCPT/DATA right behind its final dot.
    c.write("MAIL FROM:<ada@customer.test>\r\nRCPT TO:<service@example.test>\r\nRCPT TO:<billing@example.test>\r\nDATA\r\n");
    expect((await c.read(4)).map((r) => r.code)).toEqual([250, 250, 250, 354]);
    c.write(Buffer.concat([dataOf(message("first")), Buffer.from("MAIL FROM:<ada@customer.test>\r\nRCPT TO:<service@example.test>\r\nDATA\r\n")]));
    const replies = await c.read(2 + 3);
    expect(replies.map((r) => r.code)).toEqual([250, 250, 250, 250, 354]);
    expect(replies[0].line).toMatch(/^250 2\.0\.0 <service@example\.test> staged as \d+/);
    expect(replies[1].line).toMatch(/^250 2\.0\.0 <billing@example\.test> staged as \d+/);
    c.write(dataOf(message("second")));
    expect((await c.read(1))[0].line).toMatch(/^250 2\.0\.0 <service@example\.test>/);
    expect((await c.command("QUIT")).code).toBe(221);
    // The components (subject...) are parsed from the staged bytes when processed (issue 9).
    await until(() => staged(sb).every((r) => r.status === "complete"), 20_000, "processing");
    expect(staged(sb).map((s) => [s.rcpt, s.subject, s.source])).toEqual([
      ["service@example.test", "first", "lmtp"],
      ["billing@example.test", "first", "lmtp"],
      ["service@example.test", "second", "lmtp"],
    ]);
  });

  it("one recipient's storage failing gets 451 4.3.0, the others 250 2.0.0, in RCPT order; each stored copy takes its own route", async () => {
    const sb = configured({ routes: [{ address: "billing@example.test", kind: "case", queue: "billing", sendResponse: false }] });
    // The injected fault: the database refuses any staged record for this one recipient.
    const h = db(sb);
    injectFault(h, { name: "fail_one", table: "staged_mails", on: "INSERT", when: "NEW.envelope_recipient = 'broken@example.test'", message: "injected storage fault" });
    h.close();
    const d = await daemon(sb);
    const c = await client(d);
    const t = await deliver(c, "ada@customer.test", ["service@example.test", "broken@example.test", "billing@example.test"], message("three recipients"));
    expect(t.rcpt.map((r) => r.code)).toEqual([250, 250, 250]);
    expect(t.results.map((r) => r.line.slice(0, 9))).toEqual(["250 2.0.0", "451 4.3.0", "250 2.0.0"]);
    expect(t.results[1].line).toContain("<broken@example.test>");
    const s = staged(sb);
    expect(s.map((r) => r.rcpt)).toEqual(["service@example.test", "billing@example.test"]);
    await until(() => staged(sb).every((r) => r.status === "complete"), 20_000, "processing");
    const issues = await runAsync(sb, ["issue", "list", "--json"], "");
    const list = JSON.parse(issues.stdout).issues as { kind: string; queue: string | null }[];
    expect(list.map((i) => i.kind).sort()).toEqual(["case", "ticket"]);
    expect(list.find((i) => i.kind === "case")!.queue).toBe("billing");
    await until(() => /rcpt=broken@example\.test not stored: injected storage fault/.test(d.stderr()), 5000, "the log line");
  });

  it("the database locked past busyTimeoutMs (exit 75 on the per-process path): 451 4.3.0 for every recipient; delivered once it is free", async () => {
    const sb = configured({ busyTimeoutMs: 300 });
    const d = await daemon(sb);
    const c = await client(d);
    const lock = db(sb);
    const release = holdWriteLock(lock);
    try {
      const t = await deliver(c, "ada@customer.test", ["service@example.test", "billing@example.test"], message("while locked"));
      expect(t.results.map((r) => r.line.slice(0, 9))).toEqual(["451 4.3.0", "451 4.3.0"]);
    } finally {
      release();
      lock.close();
    }
    await until(() => new RegExp(`not stored: .*${LOCKED.source}`).test(d.stderr()), 5000, "the log line");
    expect(staged(sb)).toHaveLength(0);
    const again = await deliver(c, "ada@customer.test", ["service@example.test", "billing@example.test"], message("while locked"));
    expect(again.results.map((r) => r.line.slice(0, 9))).toEqual(["250 2.0.0", "250 2.0.0"]);
  });

  // SQLite's busy handler sleeps on the thread: with another process holding the database, every
  // session, SIGTERM and the drain deadline waited busyTimeoutMs (30 s by default). The daemon now
  // waits for the lock between event-loop turns.
  it("while another process holds the database, other sessions are answered and SIGTERM ends it within the drain time", async () => {
    const sb = configured({ busyTimeoutMs: 30_000 });
    const d = await daemon(sb, ["--drain-timeout", "1"]);
    const a = await client(d);
    const b = await client(d);
    const lock = db(sb);
    const release = holdWriteLock(lock);
    try {
      const pending = deliver(a, "ada@customer.test", ["service@example.test"], message("while locked")).catch(() => null);
      await new Promise((r) => setTimeout(r, 300)); // the delivery is waiting for the lock now
      const t0 = Date.now();
      expect((await b.command("NOOP")).code).toBe(250);
      expect(Date.now() - t0).toBeLessThan(5_000);
      const t1 = Date.now();
      await d.stop("SIGTERM");
      expect(Date.now() - t1).toBeLessThan(10_000);
      // Not acknowledged, so the MTA keeps it: nothing was staged.
      void pending;
      expect(staged(sb)).toHaveLength(0);
    } finally {
      release();
      lock.close();
    }
  });

  it("a redelivery is a duplicate per recipient: the same message again for the same recipient, not for another one", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    const m = message("delivered twice", { "Message-ID": "<twice@customer.test>" });
    await deliver(c, "ada@customer.test", ["service@example.test"], m);
    await until(() => staged(sb)[0]?.status === "complete", 20_000, "the first copy to be processed");
    // The MTA retries (say the 250 was lost) and later also delivers the copy for billing@.
    const again = await deliver(c, "ada@customer.test", ["service@example.test", "billing@example.test"], m);
    expect(again.results.map((r) => r.code)).toEqual([250, 250]);
    await until(() => staged(sb).every((r) => r.status !== "new"), 20_000, "processing");
    expect(staged(sb).map((r) => [r.rcpt, r.status])).toEqual([
      ["service@example.test", "complete"],
      ["service@example.test", "duplicate"],
      ["billing@example.test", "complete"],
    ]);
  });

  it("a message over SIZE gets 552 5.3.4 for every recipient (and at MAIL FROM with SIZE=), nothing staged, the session goes on", async () => {
    const sb = configured({ limits: { confirmationsPerAddressPerDay: 5, maxMessageBytes: 5000 } });
    const d = await daemon(sb);
    const c = await client(d);
    expect((await c.command("MAIL FROM:<a@x.test> SIZE=9000")).line).toMatch(/^552 5\.3\.4 /);
    const big = message("too big") + "x".repeat(76).concat("\n").repeat(100);
    const t = await deliver(c, "a@x.test", ["service@example.test", "billing@example.test"], big);
    expect(t.results.map((r) => r.line.slice(0, 9))).toEqual(["552 5.3.4", "552 5.3.4"]);
    expect(staged(sb)).toHaveLength(0);
    const ok = await deliver(c, "a@x.test", ["service@example.test"], message("small enough"));
    expect(ok.results.map((r) => r.code)).toEqual([250]);
    expect(staged(sb)).toHaveLength(1);
  });

  it("a client that drops mid-DATA leaves nothing staged and no spool file; the daemon carries on", async () => {
    // A small inline limit, so the half message was already being spooled to a file.
    const sb = configured({ inlineRawMaxBytes: 2048 });
    const d = await daemon(sb);
    const c = await client(d);
    c.write("MAIL FROM:<a@x.test>\r\nRCPT TO:<service@example.test>\r\nDATA\r\n");
    expect((await c.read(3)).map((r) => r.code)).toEqual([250, 250, 354]);
    const whole = dataOf(message("dropped") + "line of text\n".repeat(1000));
    c.write(whole.subarray(0, 8000));
    await new Promise((r) => setTimeout(r, 300));
    c.destroy();
    await until(() => /dropped mid-DATA/.test(d.stderr()), 10_000, "the drop to be logged");
    expect(staged(sb)).toHaveLength(0);
    const spool = join(sb.dir, "spool");
    expect(readdirSafe(spool)).toEqual([]);
    const c2 = await client(d);
    expect((await deliver(c2, "a@x.test", ["service@example.test"], message("next"))).results.map((r) => r.code)).toEqual([250]);
    await until(() => staged(sb)[0]?.status === "complete", 20_000, "processing");
    expect(staged(sb).map((s) => s.subject)).toEqual(["next"]);
  });

  it("takes 8-bit and SMTPUTF8 mail: UTF-8 envelope addresses and raw UTF-8 headers and body kept and decoded", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    expect((await c.command("MAIL FROM:<josé@exämple.test> SMTPUTF8 BODY=8BITMIME")).code).toBe(250);
    expect((await c.command("RCPT TO:<service@example.test>")).code).toBe(250);
    expect((await c.command("DATA")).code).toBe(354);
    const raw = Buffer.from(
      "From: José Müller <josé@exämple.test>\r\nTo: service@example.test\r\nSubject: Grüße aus Köln – Rechnung\r\nMessage-ID: <utf8-1@exämple.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nDie Rechnung ist falsch: 12 € statt 10 €.\r\n",
      "utf8",
    );
    c.write(dataOf(raw));
    expect((await c.read(1))[0].line).toMatch(/^250 2\.0\.0/);
    await until(() => staged(sb)[0].status === "complete", 20_000, "processing");
    const [s] = staged(sb);
    expect(s.sender).toBe("josé@exämple.test");
    expect(s.subject).toBe("Grüße aus Köln – Rechnung");
    // The body is kept on the action once recorded.
    const h = db(sb);
    try {
      expect(rows(h, "SELECT details FROM actions ORDER BY id")[0].details).toContain("12 € statt 10 €");
    } finally {
      h.close();
    }
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

describe("durability and group commit", () => {
  it("every 250 names a record that is already committed; concurrent sessions share commits", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const reader = db(sb);
    let checked = 0;
    try {
      await Promise.all(
        Array.from({ length: 12 }, async (_, k) => {
          const c = await client(d);
          for (let n = 0; n < 5; n++) {
            const t = await deliver(c, "ada@customer.test", ["service@example.test"], message(`c${k} m${n}`));
            const id = Number(/staged as (\d+)/.exec(t.results[0].line)![1]);
            // Read at once by another connection: the commit holding it has returned.
            expect(rows(reader, "SELECT status FROM staged_mails WHERE id = ?", id)[0]).toBeDefined();
            checked++;
          }
        }),
      );
    } finally {
      reader.close();
    }
    expect(checked).toBe(60);
    d.child.kill("SIGUSR1");
    await until(() => /status \{/.test(d.stderr()), 5000, "status line");
    const status = JSON.parse(/status (\{.*\})/.exec(d.stderr())![1]);
    expect(status.delivered).toBe(60);
    expect(status.commits).toBeLessThan(60);
    expect(status.largestGroup).toBeGreaterThan(1);
    // How the two threads shared SQLite's one writer: every staging commit was one turn of it.
    if (process.env.INGEST_MAIL_TEST_ENGINE === "postgres") expect(status.writeLock).toBeNull();
    else {
      expect(status.writeLock.staging.turns).toBeGreaterThanOrEqual(status.commits);
      expect(status.writeLock.staging.heldMs).toBeGreaterThan(0);
      expect(Object.keys(status.writeLock.processing)).toEqual(["turns", "heldMs", "waitedMs"]);
    }
  });
});

describe("processing after the 250", () => {
  it("gives the per-process path's results for the same mail", async () => {
    const fixtures = ["new-mail-opens-issue.eml", "no-subject-is-invalid.eml", "auto-submitted-auto-generated.eml", "html-only-converted-to-text.eml", "precedence-bulk.eml", "display-name-last-first.eml", "no-charset-8bit-body-read-as-windows-1252.eml", "outlook-winmail-dat-unpacked-into-its-files.eml", "winmail-dat-attached-mail-stored-as-eml.eml", "winmail-dat-rtf-body-read-from-it.eml"];
    const viaCli = configured();
    const viaLmtp = configured();
    for (const f of fixtures) {
      const r = await runAsync(viaCli, ["--json", "--recipient", "service@example.test", "--sender", "ada@customer.test"], readFixture(f));
      expect(r.code, r.stderr).toBe(0);
    }
    const d = await daemon(viaLmtp);
    const c = await client(d);
    for (const f of fixtures) expect((await deliver(c, "ada@customer.test", ["service@example.test"], readFixture(f))).results.map((r) => r.code)).toEqual([250]);
    await until(() => staged(viaLmtp).every((r) => r.status !== "new"), 30_000, "processing");
    const shape = (sb: Sandbox) => {
      const h = db(sb);
      try {
        return {
          staged: rows(h, "SELECT status, subject, from_address, auto_generated, user_identification_id, reason, trace FROM staged_mails ORDER BY id").map((r) => ({
            ...r,
            // The trace names the source (stdin / lmtp) and the byte count (CRLF over LMTP).
            trace: (JSON.parse(r.trace ?? "[]") as { step: string; decision: string }[]).filter((t) => t.step !== "stage").map((t) => `${t.step}: ${t.decision}`),
          })),
          issues: rows(h, "SELECT reference, kind, state, queue, assignee, subject, user_identification_id FROM issues ORDER BY id"),
          actions: count(h, "actions"),
          attachments: rows(h, "SELECT filename, content_type, size, sha256 FROM attachments ORDER BY id"),
          identifications: rows(h, "SELECT email, first_names, last_name FROM user_identifications ORDER BY id"),
        };
      } finally {
        h.close();
      }
    };
    const lmtp = shape(viaLmtp);
    expect(lmtp.staged.map((s) => s.status)).toContain("invalid");
    expect(lmtp.attachments.map((a) => a.filename)).toEqual(["Rechnung März.pdf", "screenshot.png", "Lieferung 2026-0512 verzögert.eml", "beamer.jpg"]);
    expect(lmtp.staged.at(-1)!.trace).toContain("parse: text from winmail.dat");
    expect(lmtp).toEqual(shape(viaCli));
  });

  it("finishes records left new by an earlier run when it starts", async () => {
    const sb = configured();
    // Staged by the per-process path and never processed: a record in `new`, as a crash leaves it.
    const h = db(sb);
    const stall = { name: "stall", table: "staged_mails", on: "UPDATE OF status", when: "NEW.status <> 'new'", message: "stalled" };
    injectFault(h, stall);
    h.close();
    const r = await runAsync(sb, ["--json", "--recipient", "service@example.test"], message("left behind"));
    expect(r.code, r.stderr).toBe(0);
    const h2 = db(sb);
    removeFault(h2, stall);
    expect(rows(h2, "SELECT status FROM staged_mails ORDER BY id")).toEqual([{ status: "new" }]);
    h2.close();
    const d = await daemon(sb);
    await until(() => staged(sb)[0].status === "complete", 20_000, "the start-up sweep");
    // The processing thread's lines reach stderr a moment later.
    await until(() => /sweep \(start\): 1 staged records/.test(d.stderr()), 5000, "the sweep's log line");
  });
});

describe("limits, signals, health", () => {
  it("past --max-connections a new session gets 421", async () => {
    const d = await daemon(configured(), ["--max-connections", "2"]);
    await client(d);
    await client(d);
    const c3 = await LmtpClient.connect(d.socket);
    clients.push(c3);
    const [r] = await c3.read(1);
    expect(r.code).toBe(421);
    await c3.closedByServer();
  });

  it("past --max-bytes-in-flight a new transaction gets 451 until the bytes are staged", async () => {
    const sb = configured();
    const d = await daemon(sb, ["--max-bytes-in-flight", "4000"]);
    const a = await client(d);
    a.write("MAIL FROM:<a@x.test>\r\nRCPT TO:<service@example.test>\r\nDATA\r\n");
    expect((await a.read(3)).map((r) => r.code)).toEqual([250, 250, 354]);
    const whole = dataOf(message("large") + "y".repeat(70).concat("\n").repeat(100));
    a.write(whole.subarray(0, 6000));
    await new Promise((r) => setTimeout(r, 300));
    const b = await client(d);
    expect((await b.command("MAIL FROM:<b@x.test>")).line).toMatch(/^451 4\.3\.0 too much mail in flight/);
    a.write(whole.subarray(6000));
    expect((await a.read(1))[0].code).toBe(250);
    expect((await b.command("MAIL FROM:<b@x.test>")).code).toBe(250);
  });

  it("SIGTERM: 421 to new sessions, the transaction in flight finishes with its 250, the queue drains, exit 0", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const a = await client(d);
    for (let n = 0; n < 20; n++) await deliver(a, "ada@customer.test", ["service@example.test"], message(`before ${n}`));
    a.write("MAIL FROM:<a@x.test>\r\nRCPT TO:<service@example.test>\r\nDATA\r\n");
    expect((await a.read(3)).map((r) => r.code)).toEqual([250, 250, 354]);
    const whole = dataOf(message("in flight"));
    a.write(whole.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 200));
    d.child.kill("SIGTERM");
    await until(() => /stopping/.test(d.stderr()), 5000, "stopping");
    const late = await LmtpClient.connect(d.socket);
    clients.push(late);
    expect((await late.read(1))[0].code).toBe(421);
    a.write(whole.subarray(100));
    expect((await a.read(1))[0].line).toMatch(/^250 2\.0\.0/);
    expect(await d.exited).toBe(0);
    const s = staged(sb);
    expect(s).toHaveLength(21);
    expect(s.every((r) => r.status === "complete")).toBe(true);
  });

  it("SIGHUP re-reads the configuration: the next new issue uses the new reference prefix", async () => {
    const sb = configured();
    const d = await daemon(sb);
    const c = await client(d);
    await deliver(c, "ada@customer.test", ["service@example.test"], message("before reload"));
    await until(() => staged(sb)[0]?.status === "complete", 20_000, "the first mail to be processed");
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ supportAddresses: ["service@example.test"], referencePrefix: "HD-" }));
    d.child.kill("SIGHUP");
    await until(() => /configuration reloaded/.test(d.stderr()), 5000, "reload");
    await deliver(c, "bob@customer.test", ["service@example.test"], message("after reload", { From: "bob@customer.test" }));
    await until(() => staged(sb).every((r) => r.status === "complete"), 20_000, "processing");
    const list = JSON.parse((await runAsync(sb, ["issue", "list", "--json"], "")).stdout).issues as { reference: string }[];
    expect(list.map((i) => i.reference).sort()).toEqual(["CS-000001", "HD-000002"]);
    // A broken file keeps the running configuration.
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, "{ not json");
    d.child.kill("SIGHUP");
    await until(() => /configuration NOT reloaded/.test(d.stderr()), 5000, "refused reload");
  });

  it("--lmtp systemd takes the socket passed in as fd 3 (LISTEN_FDS, LISTEN_PID), as ingest-mail-lmtp.socket does", async () => {
    const sb = configured();
    const path = join(sb.dir, "activated.sock");
    // What systemd does: listen, hand the socket over as fd 3, set LISTEN_FDS/LISTEN_PID, exec.
    const py = [
      "import os, socket, sys",
      "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)",
      "os.dup2(s.fileno(), 3); os.set_inheritable(3, True)",
      "os.execve(sys.argv[2], sys.argv[2:], dict(os.environ, LISTEN_FDS='1', LISTEN_PID=str(os.getpid())))",
    ].join("\n");
    const child = spawn("python3", ["-c", py, path, process.execPath, bin, "serve", "--lmtp", "systemd"], { env: sb.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await until(() => /listening on systemd socket \(fd 3\)/.test(out) || child.exitCode !== null, 20_000, "the daemon on fd 3");
      expect(out).toMatch(/listening on systemd socket/);
      const c = await LmtpClient.connect(path);
      clients.push(c);
      expect((await c.read(1))[0].code).toBe(220);
      expect((await c.command("LHLO mta.example.test")).code).toBe(250);
      expect((await deliver(c, "a@x.test", ["service@example.test"], message("socket activated"))).results.map((r) => r.code)).toEqual([250]);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(staged(sb).map((r) => r.subject)).toEqual(["socket activated"]);
  });

  it("serve --check reports configuration, database and socket; refuses port 25", async () => {
    const sb = configured();
    const ok = await runAsync(sb, ["serve", "--lmtp", `unix:${join(sb.dir, "lmtp.sock")}`, "--check"], "");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok +config:.*\nok +database: .*writable.*\nok +listen unix:/);
    const noDir = await runAsync(sb, ["serve", "--lmtp", "unix:/nonexistent/dir/lmtp.sock", "--check"], "");
    expect(noDir.code).toBe(75);
    expect(noDir.stdout).toMatch(/FAIL listen unix:\/nonexistent/);
    writeFileSync(sb.env.INGEST_MAIL_CONFIG!, JSON.stringify({ nosuchkey: 1 }));
    const bad = await runAsync(sb, ["serve", "--lmtp", `unix:${join(sb.dir, "lmtp.sock")}`, "--check"], "");
    expect(bad.code).toBe(78);
    const p25 = await runAsync(sb, ["serve", "--lmtp", "127.0.0.1:25"], "");
    expect(p25.code).toBe(64);
    expect(p25.stderr).toMatch(/never listen on port 25/);
  });

  it("serve --check on a database serve would create passes and makes nothing; a file that is not a socket fails it", async () => {
    const sb = configured();
    const fresh = join(sb.dir, "new", "ingest.db");
    const r = await runAsync(sb, ["serve", "--lmtp", `unix:${join(sb.dir, "lmtp.sock")}`, "--db", fresh, "--check"], "");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`ok   database: ${fresh} (does not exist yet: serve creates it in ${sb.dir})`);
    expect(existsSync(join(sb.dir, "new"))).toBe(false);
    writeFileSync(join(sb.dir, "file.sock"), "not a socket");
    const notSocket = await runAsync(sb, ["serve", "--lmtp", `unix:${join(sb.dir, "file.sock")}`, "--check"], "");
    expect(notSocket.stdout).toContain(`FAIL listen unix:${join(sb.dir, "file.sock")}: ${join(sb.dir, "file.sock")} exists and is not a socket`);
  });

  // 70 is "internal fault" (README); these are a set-up error (78) and a busy address (75: systemd retries).
  it("a listen address it cannot take: 78 for a file that is not a socket, 75 for one another daemon holds", async () => {
    const sb = configured();
    writeFileSync(join(sb.dir, "file.sock"), "not a socket");
    const file = await runAsync(sb, ["serve", "--lmtp", `unix:${join(sb.dir, "file.sock")}`], "");
    expect([file.code, file.stderr]).toEqual([78, `ingest-mail: cannot listen on unix:${join(sb.dir, "file.sock")}: ${join(sb.dir, "file.sock")} exists and is not a socket\n`]);
    const first = await daemon(sb);
    const second = await runAsync(sb, ["serve", "--lmtp", `unix:${first.socket}`], "");
    expect(second.code, second.stderr).toBe(75);
    expect(second.stderr).toContain(`cannot listen on unix:${first.socket}: another daemon is listening on ${first.socket}`);
  });
});
