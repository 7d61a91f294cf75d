// notifyError and sendConfirmations in process, with a fixed clock, fixed ids and a fake mailer:
// what goes out, what is recorded, and that nothing here ever throws into the ingest.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { defaultConfig, type Config } from "../../src/config.js";
import { createIdentification, createIssue, getStaged, insertStaged, listOutbound, type StagedMail } from "../../src/store/queries/queries.js";
import { openSqliteStore } from "../../src/store/sqlite/open.js";
import type { Deps, OutgoingMail } from "../../src/pipeline/deps.js";
import { notifyError, sendConfirmations } from "../../src/pipeline/outbound.js";

const NOW = new Date("2024-01-01T10:00:00.000Z");
let sent: OutgoingMail[];
let logged: string[];
let guids: number;

function fakeDeps(config: Partial<Config> = {}, fail?: string): Deps {
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-unit-"));
  const path = join(dir, "t.db");
  const store = openSqliteStore(path, { busyTimeoutMs: 1000 });
  return {
    db: store,
    store,
    config: { ...defaultConfig, supportAddresses: ["service@example.test"], ...config },
    paths: { db: path, attachmentsDir: join(dir, "a"), spoolDir: join(dir, "s") },
    now: () => NOW,
    newGuid: () => `00000000-0000-4000-8000-${String(++guids).padStart(12, "0")}`,
    log: (l) => void logged.push(l),
    mailer: async () => ({
      async send(m) {
        if (fail) throw new Error(fail);
        sent.push(m);
      },
    }),
    hostname: "helpdesk.example.test",
  };
}

async function stage(deps: Deps, from = "dora@customer.example"): Promise<StagedMail> {
  const { id } = (await insertStaged(deps.db, {
    receivedAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    status: "error",
    source: "stdin",
    contentHash: "h",
    rawSize: 1,
    headers: "",
    fromAddress: from,
    subject: "Printer broken",
    messageId: "<orig@customer.example>",
  }))!;
  return (await getStaged(deps.db, id))!;
}

beforeEach(() => {
  sent = [];
  logged = [];
  guids = 0;
});

describe("notifyError", () => {
  it("without adminAddress: only the log line", async () => {
    const deps = fakeDeps();
    const staged = await stage(deps);
    expect(await notifyError(deps, staged, "boom")).toEqual([]);
    expect(logged).toEqual([`staged mail ${staged.id} error: boom`]);
    expect(sent).toEqual([]);
    expect(await listOutbound(deps.db)).toEqual([]);
  });

  it("with adminAddress: the notice goes out and is recorded as sent", async () => {
    const deps = fakeDeps({ adminAddress: "Admin <admin@example.test>" });
    const staged = await stage(deps);
    const out = await notifyError(deps, staged, "no such table: issues");
    const messageId = "<00000000-0000-4000-8000-000000000001@helpdesk.example.test>";
    expect(out).toEqual([{ kind: "admin-error", issueId: null, to: "admin@example.test", messageId, status: "sent", error: null }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: "Admin <admin@example.test>", messageId, date: NOW, headers: { "Auto-Submitted": "auto-generated" } });
    expect(sent[0].subject).toBe(`[ingest-mail] staged mail ${staged.id} failed: no such table: issues`);
    expect(sent[0].text).toContain(`ingest-mail resubmit ${staged.id} --db ${deps.paths.db}`);
    expect(await listOutbound(deps.db)).toEqual([
      expect.objectContaining({ kind: "admin-error", stagedMailId: staged.id, toAddress: "admin@example.test", messageId, status: "sent", createdAt: NOW.toISOString() }),
    ]);
  });

  it("a transport failure is recorded as failed and logged, not thrown", async () => {
    const deps = fakeDeps({ adminAddress: "admin@example.test" }, "connect ECONNREFUSED 127.0.0.1:25");
    const staged = await stage(deps);
    const out = await notifyError(deps, staged, "boom");
    expect(out).toEqual([expect.objectContaining({ status: "failed", error: "connect ECONNREFUSED 127.0.0.1:25" })]);
    expect((await listOutbound(deps.db))[0]).toMatchObject({ status: "failed", error: "connect ECONNREFUSED 127.0.0.1:25" });
    expect(logged.some((l) => l.includes("ECONNREFUSED"))).toBe(true);
  });

  it("when the database is what failed, the administrator is still told", async () => {
    const deps = fakeDeps({ adminAddress: "admin@example.test" });
    const staged = await stage(deps);
    await deps.store.close();
    const out = await notifyError(deps, staged, "disk I/O error");
    expect(out).toEqual([expect.objectContaining({ kind: "admin-error", status: "sent" })]);
    expect(sent).toHaveLength(1);
    expect(logged.some((l) => l.includes("could not record the admin notice"))).toBe(true);
  });
});

describe("sendConfirmations", () => {
  const route = { kind: "ticket" as const, queue: null, sendResponse: true, routeAddress: "service@example.test" };

  async function setUp(deps: Deps) {
    const staged = await stage(deps);
    const uid = (await createIdentification(deps.db, { email: "dora@customer.example", dateAdded: NOW.toISOString() })).id;
    const issue = await deps.db.write((tx) =>
      createIssue(tx, { guid: "2b8586bb-ef95-4020-9cf8-ed56a059b47e", kind: "ticket", state: "todo", userIdentificationId: uid, openDate: NOW.toISOString(), updatedAt: NOW.toISOString() }, "CS-"),
    );
    return { staged, uid, issue };
  }

  it("sends, records and traces; the stored trace is updated", async () => {
    const deps = fakeDeps();
    const { staged, uid, issue } = await setUp(deps);
    const trace = [{ step: "stage", decision: "staged", reason: "" }];
    const out = await sendConfirmations(deps, { staged, created: [{ issue, route }], userIdentificationId: uid, autoGenerated: false, supportAddress: "service@example.test", trace });
    const messageId = `<00000000-0000-4000-8000-000000000001.${issue.guid}@helpdesk.example.test>`;
    expect(out).toEqual([{ kind: "confirmation", issueId: issue.id, to: "dora@customer.example", messageId, status: "sent", error: null }]);
    expect(sent[0]).toMatchObject({ replyTo: expect.stringMatching(new RegExp(`^service\\+${uid}-${issue.id}-[0-9a-f]{10}@example\\.test$`)), inReplyTo: "<orig@customer.example>", date: NOW });
    expect(trace[1]).toMatchObject({ step: "confirm", decision: "confirmation for CS-000001 sent to dora@customer.example" });
    expect(JSON.parse((await getStaged(deps.db, staged.id))!.trace!)).toEqual(trace);
  });

  it("the rate window uses deps.now: rows from the injected clock's last 24 h count", async () => {
    const deps = fakeDeps({ limits: { ...defaultConfig.limits, confirmationsPerAddressPerDay: 1 } });
    const { staged, uid, issue } = await setUp(deps);
    const ctx = { staged, created: [{ issue, route }], userIdentificationId: uid, autoGenerated: false, supportAddress: "service@example.test" };
    expect((await sendConfirmations(deps, ctx))[0].status).toBe("sent");
    expect((await sendConfirmations(deps, ctx))[0]).toMatchObject({ status: "skipped", error: expect.stringMatching(/^rate limit/) });
    const later = { ...deps, now: () => new Date(NOW.getTime() + 24 * 3600_000 + 1) };
    expect((await sendConfirmations(later, ctx))[0].status).toBe("sent");
  });

  it("never throws, even when the database is gone", async () => {
    const deps = fakeDeps();
    const { staged, uid, issue } = await setUp(deps);
    await deps.store.close();
    const trace: any[] = [];
    await expect(sendConfirmations(deps, { staged, created: [{ issue, route }], userIdentificationId: uid, autoGenerated: false, supportAddress: null, trace })).resolves.toEqual([]);
    expect(sent).toEqual([]);
    expect(trace[0]).toMatchObject({ step: "confirm", reason: expect.stringMatching(/^could not record the confirmation/) });
  });
});
