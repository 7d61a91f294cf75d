// `recover` may claim a record again while its first processor is still at work (a slow process
// past the threshold, or two recovers with --older-than 0). The attempt number taken with the claim
// makes the slower one step back, so the mail is recorded once. In-process, with a clock that lets
// the "other process" act at the exact moment between the claim and the workflow transaction.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../../src/cli/context.js";
import { getStaged, setStagedStatus } from "../../src/db/queries.js";
import { ingest, processStaged } from "../../src/pipeline/ingest.js";
import { count, mail } from "../helpers/cli.js";
import { configured } from "./support.js";

describe("claiming a staged record", () => {
  it("a processor whose record was claimed again steps back; the new claimant records it once", async () => {
    const sb = configured({});
    const deps = makeDeps({ db: sb.db }, sb.env);
    // Stage a record and leave it in_process, as a crash (or a slow process) would.
    const first = await ingest(deps, Readable.from([mail({ From: "a@example.com", Subject: "slow" })]), { recipient: null, sender: null }, { source: "stdin" });
    deps.db.$client.exec("DELETE FROM actions; DELETE FROM interactions; DELETE FROM issues;");
    setStagedStatus(deps.db, first.stagedId, "new", new Date().toISOString());

    // The clock is read inside the workflow transaction, after our claim: at that moment another
    // process (recover) re-claims the record — new, then in_process with the next attempt number.
    let reclaimed = false;
    const realNow = deps.now;
    deps.now = () => {
      const row = getStaged(deps.db, first.stagedId)!;
      if (!reclaimed && deps.db.$client.inTransaction && row.status === "in_process") {
        reclaimed = true;
        deps.db.$client.prepare("UPDATE staged_mails SET attempts = attempts + 1 WHERE id = ?").run(first.stagedId);
      }
      return realNow();
    };
    const slow = await processStaged(deps, first.stagedId);
    expect(reclaimed).toBe(true);
    expect(slow.trace.at(-1)).toMatchObject({ step: "claim", decision: "left to another process" });
    expect(count(deps.db, "interactions")).toBe(0);
    expect(count(deps.db, "issues")).toBe(0);

    // The record is still in_process (the other claimant's); when that one (here: recover) runs it
    // through again, it is recorded exactly once.
    deps.now = realNow;
    expect(getStaged(deps.db, first.stagedId)!.status).toBe("in_process");
    setStagedStatus(deps.db, first.stagedId, "new", new Date().toISOString(), {}, "recovered from in_process");
    const done = await processStaged(deps, first.stagedId);
    expect(done.status).toBe("complete");
    expect(count(deps.db, "interactions")).toBe(1);
    // A second processStaged on a record that is no longer new does nothing.
    const again = await processStaged(deps, first.stagedId);
    expect(again.status).toBe("complete");
    expect(count(deps.db, "interactions")).toBe(1);
    deps.db.$client.close();
  });
});
