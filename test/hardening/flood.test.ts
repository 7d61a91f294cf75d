// Issue 5, mail flood: more than maxNewIssues new issues from one sender within windowMinutes are
// staged but held, with the reason visible in list / show / --json; resubmit releases a held mail.
import { describe, expect, it } from "vitest";
import { count, db, ingest, mail, run } from "../helpers/cli.js";
import { configured } from "./support.js";

const config = { supportAddresses: ["service@example.com"], flood: { maxNewIssues: 3, windowMinutes: 60 } };

describe("flood limit", () => {
  it("the 4th new issue from one sender in the window is held; replies and other senders are not", () => {
    const sb = configured(config);
    const outs = [1, 2, 3, 4, 5].map((i) => ingest(sb, mail({ From: "flood@example.com", To: "service@example.com", Subject: `Spam ${i}` })));
    expect(outs.map((o) => o.status)).toEqual(["complete", "complete", "complete", "held", "held"]);
    const held = outs[3];
    expect(held.reason).toBe("flood: 3 new issues from this sender in 60 minutes (limit 3)");
    expect(held.issues).toEqual([]);
    expect(held.trace.at(-1)).toMatchObject({ step: "flood", decision: "held" });

    // A reply to an existing issue is not a new issue: not held.
    const reply = ingest(sb, mail({ From: "flood@example.com", To: "service@example.com", Subject: `Re: [${outs[0].issues[0].reference}] Spam 1` }));
    expect(reply.status).toBe("complete");
    // Another sender is counted apart.
    expect(ingest(sb, mail({ From: "calm@example.com", To: "service@example.com", Subject: "Hello" })).status).toBe("complete");

    const d = db(sb);
    expect(count(d, "issues")).toBe(4);
    expect(count(d, "staged_mails", "status = 'held'")).toBe(2);
    expect(count(d, "interactions", "staged_mail_id = ?", held.stagedId)).toBe(0);
    d.close();

    // Visible to the administrator.
    expect(run(sb, ["list"]).stdout).toMatch(new RegExp(`${held.stagedId} .* held .*flood: 3 new issues from this sender in 60 minutes`));
    expect(run(sb, ["list", "--status", "held", "--json"]).json().staged.map((s: any) => [s.id, s.reason])).toEqual([
      [outs[4].stagedId, held.reason],
      [held.stagedId, held.reason],
    ]);
    expect(run(sb, ["show", String(held.stagedId)]).stdout).toMatch(/status\s+held[\s\S]*reason\s+flood: 3 new issues/);
    expect(run(sb, ["show", String(held.stagedId), "--json"]).json()).toMatchObject({ status: "held", reason: held.reason });
  });

  it("resubmit of a held mail processes it (the administrator overrules the limit); other mail stays held", () => {
    const sb = configured(config);
    const outs = [1, 2, 3, 4, 5].map((i) => ingest(sb, mail({ From: "flood@example.com", To: "service@example.com", Subject: `Spam ${i}` })));
    const r = run(sb, ["resubmit", String(outs[3].stagedId), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: "complete", issues: [{ created: true }] });
    expect(r.json().trace.some((t: any) => t.step === "flood")).toBe(false);
    const d = db(sb);
    expect(count(d, "issues")).toBe(4);
    expect(count(d, "staged_mails", "status = 'held'")).toBe(1);
    expect(count(d, "interactions", "staged_mail_id = ?", outs[3].stagedId)).toBe(1);
    d.close();
    // A new mail from the same sender is still held: the release was for that one mail.
    expect(ingest(sb, mail({ From: "flood@example.com", To: "service@example.com", Subject: "Spam 6" })).status).toBe("held");
  });

  it("outside the window the sender may open issues again", () => {
    const sb = configured({ ...config, flood: { maxNewIssues: 1, windowMinutes: 0 } });
    const outs = [1, 2].map((i) => ingest(sb, mail({ From: "slow@example.com", To: "service@example.com", Subject: `One ${i}` })));
    expect(outs.map((o) => o.status)).toEqual(["complete", "complete"]);
  });
});
