// The claim (new → in_process) and the workflow are one write transaction, so the write lock is the
// claim: while one processor holds it, another (a second ingest, `recover`) cannot take the record
// (its conditional update ends in a storage fault, issue 11.3), and when it gets the lock the record
// is no longer `new` and it steps back. Each mail is recorded once. In-process, with a clock that
// lets "another process" act inside the first one's transaction.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../../src/cli/context.js";
import { isStorageFault } from "../../src/errors.js";
import { ingest, processStaged } from "../../src/pipeline/ingest.js";
import { getStaged, setStagedStatus, statusHistory } from "../../src/store/queries/queries.js";
import type { Db } from "../../src/store/store.js";
import { count, db, mail } from "../helpers/cli.js";
import { configured } from "./support.js";

/** The same Db, calling `inside(true)` when a write transaction starts and `inside(false)` when it ends. */
function watched(d: Db, inside: (yes: boolean) => void): Db {
  return new Proxy(d, {
    get(target, key) {
      if (key === "write")
        return <T>(fn: (tx: Db) => Promise<T>, opts?: Parameters<Db["write"]>[1]) =>
          target.write(async (tx) => {
            inside(true);
            try {
              return await fn(tx);
            } finally {
              inside(false);
            }
          }, opts);
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe("claiming a staged record", () => {
  it("a second processor cannot claim a record while the first holds it, and then steps back", async () => {
    const sb = configured({ busyTimeoutMs: 50 });
    const deps = await makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
    const other = await makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
    // Stage a record and put it back to new, as `recover` does with a stuck one.
    const first = await ingest(deps, Readable.from([mail({ From: "a@example.com", Subject: "slow" })]), { recipient: null, sender: null }, { source: "stdin" });
    const d = db(sb);
    d.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues;");
    await setStagedStatus(deps.db, first.stagedId, "new", new Date().toISOString(), {}, "recovered from in_process");

    // The clock is read inside the workflow transaction, after the claim: at that moment the other
    // connection tries to claim the same record and must be refused (the lock is held): a storage
    // fault (busy), never a second claim.
    let inTx = false;
    let attempt = null as Promise<string> | null;
    const realNow = deps.now;
    const holder = {
      ...deps,
      db: watched(deps.db, (yes) => (inTx = yes)),
      now: () => {
        if (attempt === null && inTx)
          attempt = other.db.run("UPDATE staged_mails SET status = 'in_process', attempts = attempts + 1 WHERE id = ? AND status = 'new'", [first.stagedId]).then(
            (r) => `claimed ${r.changes}`,
            (e: unknown) => (isStorageFault(e) ? "busy" : String(e)),
          );
        return realNow();
      },
    };
    const done = await processStaged(holder, first.stagedId);
    expect(await attempt).toBe("busy");
    expect(done.status).toBe("complete");
    expect(count(d, "interactions")).toBe(1);

    // The other processor gets the record only after the commit: it is complete, and it records nothing.
    const late = await processStaged(other, first.stagedId);
    expect(late.status).toBe("complete");
    expect(late.interactionId).toBe(done.interactionId);
    expect(count(d, "interactions")).toBe(1);
    expect(count(d, "issues")).toBe(1);
    const row = (await getStaged(deps.db, first.stagedId))!;
    expect(row.attempts).toBe(2);
    expect((await statusHistory(deps.db, first.stagedId)).map((h) => h.status)).toEqual(["new", "in_process", "workflow", "complete", "new", "in_process", "workflow", "complete"]);
    d.close();
    await deps.store.close();
    await other.store.close();
  });

  it("a workflow that fails rolls back everything it did and leaves the record `error` with one more attempt", async () => {
    const sb = configured({});
    const deps = await makeDeps({ db: sb.db }, sb.env, undefined, { create: true });
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
    expect(JSON.parse((await getStaged(deps.db, out.stagedId))!.trace!).at(-1)).toMatchObject({ step: "error" });
    const d = db(sb);
    expect(count(d, "issues")).toBe(0);
    expect(count(d, "user_identifications")).toBe(0);
    d.close();
    const row = (await getStaged(deps.db, out.stagedId))!;
    expect(row).toMatchObject({ status: "error", attempts: 1 });
    expect((await statusHistory(deps.db, out.stagedId)).map((h) => h.status)).toEqual(["new", "in_process", "error"]);
    await deps.store.close();
  });
});
