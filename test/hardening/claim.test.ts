// The claim (new → in_process) and the workflow are one write transaction, so the write lock is the
// claim: while one processor holds it, another (a second ingest, `recover`) cannot take the record,
// and when it gets the lock the record is no longer `new` and it steps back. Each mail is recorded
// once. In-process, with a clock that lets "another process" act inside the first one's transaction.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../../src/cli/context.js";
import { getStaged, setStagedStatus, statusHistory } from "../../src/db/queries.js";
import { ingest, processStaged } from "../../src/pipeline/ingest.js";
import { count, mail } from "../helpers/cli.js";
import { configured } from "./support.js";

describe("claiming a staged record", () => {
  it("a second processor cannot claim a record while the first holds it, and then steps back", async () => {
    const sb = configured({ busyTimeoutMs: 50 });
    const deps = makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
    const other = makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
    // Stage a record and put it back to new, as `recover` does with a stuck one.
    const first = await ingest(deps, Readable.from([mail({ From: "a@example.com", Subject: "slow" })]), { recipient: null, sender: null }, { source: "stdin" });
    deps.db.$client.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues;");
    setStagedStatus(deps.db, first.stagedId, "new", new Date().toISOString(), {}, "recovered from in_process");

    // The clock is read inside the workflow transaction, after the claim: at that moment the other
    // connection tries to claim the same record and must be refused (the lock is held).
    let refused: string | null = null;
    const realNow = deps.now;
    deps.now = () => {
      if (refused === null && deps.db.$client.inTransaction) {
        try {
          other.db.$client.prepare("UPDATE staged_mails SET status = 'in_process', attempts = attempts + 1 WHERE id = ? AND status = 'new'").run(first.stagedId);
          refused = "no";
        } catch (e) {
          refused = (e as { code?: string }).code ?? "error";
        }
      }
      return realNow();
    };
    const done = await processStaged(deps, first.stagedId);
    expect(refused).toBe("SQLITE_BUSY");
    expect(done.status).toBe("complete");
    expect(count(deps.db, "interactions")).toBe(1);

    // The other processor gets the record only after the commit: it is complete, and it records nothing.
    const late = await processStaged(other, first.stagedId);
    expect(late.status).toBe("complete");
    expect(late.interactionId).toBe(done.interactionId);
    expect(count(deps.db, "interactions")).toBe(1);
    expect(count(deps.db, "issues")).toBe(1);
    const row = getStaged(deps.db, first.stagedId)!;
    expect(row.attempts).toBe(2);
    expect(statusHistory(deps.db, first.stagedId).map((h) => h.status)).toEqual(["new", "in_process", "workflow", "complete", "new", "in_process", "workflow", "complete"]);
    deps.db.$client.close();
    other.db.$client.close();
  });

  it("a workflow that fails rolls back everything it did and leaves the record `error` with one more attempt", async () => {
    const sb = configured({});
    const deps = makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
    let calls = 0;
    const realGuid = deps.newGuid;
    // Opening the issue asks for a guid; failing there is a failure in the middle of the workflow.
    deps.newGuid = () => {
      if (calls++ === 0) throw new Error("guid source unavailable");
      return realGuid();
    };
    const out = await ingest(deps, Readable.from([mail({ From: "b@example.com", Subject: "breaks" })]), { recipient: null, sender: null }, { source: "stdin" });
    expect(out).toMatchObject({ status: "error", error: "guid source unavailable" });
    // The trace shows how far the workflow got before it rolled back.
    expect(out.trace.map((t) => t.step)).toEqual(expect.arrayContaining(["stage", "recipient", "identify", "error"]));
    expect(JSON.parse(getStaged(deps.db, out.stagedId)!.trace!).at(-1)).toMatchObject({ step: "error" });
    expect(count(deps.db, "issues")).toBe(0);
    expect(count(deps.db, "user_identifications")).toBe(0);
    const row = getStaged(deps.db, out.stagedId)!;
    expect(row).toMatchObject({ status: "error", attempts: 1 });
    expect(statusHistory(deps.db, out.stagedId).map((h) => h.status)).toEqual(["new", "in_process", "error"]);
    deps.db.$client.close();
  });
});
