// pollOnce() with an in-memory mailbox: a message is marked done only after it is staged, a fault
// leaves it waiting, a stop request is honoured between messages, re-polling duplicates nothing.
import Database from "better-sqlite3";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../../src/cli/context.js";
import { MailboxError, pollOnce, type Mailbox, type MailboxMessage } from "../../src/sources/mailbox.js";
import { mail } from "../helpers/cli.js";

class MemoryMailbox implements Mailbox {
  readonly protocol = "imap" as const;
  readonly where = "test@memory";
  events: string[] = [];
  /** What open() throws, after it has "connected". */
  failOpen: MailboxError | null = null;
  constructor(
    public messages: Map<number, Buffer>,
    private readonly failFetchAt: number | null = null,
  ) {}
  async open() {
    this.events.push("open");
    if (this.failOpen) throw this.failOpen;
  }
  async pending(): Promise<MailboxMessage[]> {
    return [...this.messages.keys()].sort((a, b) => a - b).map((id) => ({ id, label: String(id) }));
  }
  async fetch(m: MailboxMessage) {
    if (m.id === this.failFetchAt) throw new MailboxError("connection lost", "unreachable");
    this.events.push(`fetch ${m.id}`);
    return this.messages.get(m.id) ?? null;
  }
  async done(m: MailboxMessage) {
    this.events.push(`done ${m.id}`);
    this.messages.delete(m.id);
  }
  async close() {
    this.events.push("close");
  }
  abort() {
    this.events.push("abort");
  }
}

async function setup(config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "poll-cycle-"));
  const cfg = join(dir, "config.json");
  writeFileSync(cfg, JSON.stringify(config));
  const deps = await makeDeps({ db: join(dir, "db.sqlite"), config: cfg }, {}, undefined, { create: true });
  return { deps, dbPath: join(dir, "db.sqlite") };
}

const msg = (n: number) => Buffer.from(mail({ From: `c${n}@customer.test`, To: "support@example.test", Subject: `Q${n}`, "Message-ID": `<cycle${n}@customer.test>` }));
const box = (...ns: number[]) => new Map(ns.map((n) => [n, msg(n)]));

describe("pollOnce", () => {
  it("stages each message before marking it, then logs out", async () => {
    const { deps } = await setup();
    const mb = new MemoryMailbox(box(1, 2));
    const r = await pollOnce(deps, mb, { source: "imap", shouldStop: () => false });
    expect(r).toMatchObject({ fetched: 2, counts: { complete: 2 }, stopped: false });
    expect(mb.events).toEqual(["open", "fetch 1", "done 1", "fetch 2", "done 2", "close"]);
    expect(await deps.db.all("SELECT source, status FROM staged_mails ORDER BY id")).toEqual([
      { source: "imap", status: "complete" },
      { source: "imap", status: "complete" },
    ]);
  });

  it("a message left unmarked by a crash comes back as a duplicate and is marked then", async () => {
    const { deps } = await setup();
    const first = new MemoryMailbox(box(1));
    await pollOnce(deps, first, { source: "imap", shouldStop: () => false });
    // The same message still on the server (the flag never reached it).
    const again = new MemoryMailbox(box(1, 2));
    const r = await pollOnce(deps, again, { source: "imap", shouldStop: () => false });
    expect(r.counts).toEqual({ duplicate: 1, complete: 1 });
    expect(again.messages.size).toBe(0);
    expect(await deps.db.get("SELECT count(*) AS n FROM issues")).toEqual({ n: 2 });
  });

  it("when staging fails the message stays waiting; what was staged before is marked and the session closed", async () => {
    const { deps, dbPath } = await setup({ busyTimeoutMs: 50 });
    const mb = new MemoryMailbox(box(1, 2));
    // Let message 1 through, then lock the database before message 2.
    const realDone = mb.done.bind(mb);
    const lock = new Database(dbPath);
    mb.done = async (m) => {
      await realDone(m);
      lock.exec("BEGIN EXCLUSIVE");
      lock.prepare("UPDATE issues SET updated_at = updated_at").run();
    };
    const err = await pollOnce(deps, mb, { source: "imap", shouldStop: () => false }).catch((e) => e);
    lock.exec("ROLLBACK");
    expect(String(err)).toMatch(/locked|busy/);
    expect(mb.events).toEqual(["open", "fetch 1", "done 1", "fetch 2", "close"]);
    expect([...mb.messages.keys()]).toEqual([2]);
  });

  it("a server fault drops the connection (abort) and is passed on", async () => {
    const { deps } = await setup();
    const mb = new MemoryMailbox(box(1, 2), 2);
    await expect(pollOnce(deps, mb, { source: "imap", shouldStop: () => false })).rejects.toBeInstanceOf(MailboxError);
    expect(mb.events).toEqual(["open", "fetch 1", "done 1", "abort"]);
  });

  it("a failed open (a locked or refused login) drops the connection and is passed on", async () => {
    const { deps } = await setup();
    const mb = new MemoryMailbox(box(1));
    mb.failOpen = new MailboxError("login refused for u: [IN-USE] locked", "unreachable");
    await expect(pollOnce(deps, mb, { source: "pop3", shouldStop: () => false })).rejects.toBe(mb.failOpen);
    expect(mb.events).toEqual(["open", "abort"]);
  });

  it("a stop request is honoured between messages", async () => {
    const { deps } = await setup();
    const mb = new MemoryMailbox(box(1, 2, 3));
    let stop = false;
    const realDone = mb.done.bind(mb);
    mb.done = async (m) => {
      await realDone(m);
      stop = true; // SIGTERM while message 1 was being processed
    };
    const r = await pollOnce(deps, mb, { source: "imap", shouldStop: () => stop });
    expect(r).toMatchObject({ fetched: 1, stopped: true });
    expect(mb.events).toEqual(["open", "fetch 1", "done 1", "close"]);
  });

  it("a stop while the server is waited on drops the connection at once: nothing more marked, stopped, no error", async () => {
    const { deps } = await setup();
    const mb = new MemoryMailbox(box(1, 2));
    const stop = new AbortController();
    const realFetch = mb.fetch.bind(mb);
    let hang: (() => void) | null = null;
    mb.fetch = async (m) => {
      if (m.id === 1) return realFetch(m);
      // A server that never finishes its answer: only the dropped connection ends the wait.
      await new Promise<void>((_, reject) => (hang = () => reject(new MailboxError("connection dropped", "unreachable"))));
      return null;
    };
    mb.abort = () => {
      mb.events.push("abort");
      hang?.();
    };
    const cycle = pollOnce(deps, mb, { source: "imap", shouldStop: () => stop.signal.aborted, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    const r = await cycle;
    expect(r).toMatchObject({ fetched: 1, stopped: true });
    expect(mb.events).toEqual(["open", "fetch 1", "done 1", "abort"]);
  });
});
