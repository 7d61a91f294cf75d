// The store contract (issue 11.6): the named queries (src/store/queries/) with real rows, and the
// concurrency guarantees the pipeline rests on (issue 11.3: the claim, dedup, references, the rate
// limit), run on every engine by store.test.ts. The engine-level contract is engine.ts.
// The racers of the concurrency tests each have a store of their own on the same database (their
// own connection), as two ingest processes or two hosts would; see store-scenarios.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueHistoryOf } from "../../src/store/queries/history-queries.js";
import { linkGraph } from "../../src/store/queries/link-queries.js";
import {
  actionDetails,
  actionsOfIssue,
  attachmentsOf,
  countAdminNoticesSince,
  countConfirmationsSince,
  countIssuesOpenedSince,
  countStagedByStatus,
  createAccount,
  createIdentification,
  createIssue,
  createUser,
  findStagedByDedupKey,
  findUserByEmail,
  senderByEmail,
  getIssue,
  getIssueByGuid,
  getIssueByReference,
  getOutboundByMessageId,
  getStaged,
  identificationEmail,
  insertAction,
  insertInteraction,
  insertInteractionWithActions,
  insertOutbound,
  insertStaged,
  insertStagedAhead,
  issuesNamed,
  issuesOfStaged,
  linkAttachmentsToAction,
  writeComponents,
  listIssues,
  listStaged,
  listStagedIds,
  listStuckStaged,
  stagedForCommit,
  outboundToRetry,
  pendingDigest,
  rawOf,
  referencedFiles,
  setStagedStatus,
  splitChildrenOf,
  stagedClaim,
  stagedStatus,
  statusHistory,
  takeClaim,
  updateIssue,
  updateOutbound,
  updateStaged,
  type Issue,
  type NewIssue,
  type NewStagedMail,
} from "../../src/store/queries/queries.js";
import { addCcParticipants, issueParticipants, participantEmails } from "../../src/store/queries/participant-queries.js";
import { countConfirmationsToKey } from "../../src/store/queries/trust-queries.js";
import type { Db, Store } from "../../src/store/store.js";
import type { ScenarioName, Scenarios } from "./store-scenarios.js";

/** A store of its own on the suite's database, running store-scenarios.ts on request. */
export interface Racer {
  run<K extends ScenarioName>(name: K, args: Parameters<Scenarios[K]>[1]): ReturnType<Scenarios[K]>;
  close(): Promise<void>;
}

export interface StoreHarness {
  name: string;
  /** A target (path or URL) for a new empty database. */
  fresh(): Promise<string>;
  open(target: string): Promise<Store>;
  /** n racers on the database at `target`, each with its own connection, able to run at once. */
  racers(target: string, n: number): Promise<Racer[]>;
  /**
   * One writer at a time (SQLite): a read-then-write in a write transaction cannot race even
   * without lockKey. Where false (PostgreSQL), the suite shows that lockKey is what prevents it.
   */
  serialWriters: boolean;
}

const T0 = "2030-01-01T00:00:00.000Z";
/** An ISO time `s` seconds after T0. */
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

export function storeContract(h: StoreHarness): void {
  describe(`store contract: ${h.name}`, () => {
    let target: string;
    let store: Store;
    let racers: Racer[] = [];
    let n = 0;
    /** A value no other test uses. */
    const uniq = (what: string) => `${what}-${++n}`;

    const staged = (over: Partial<NewStagedMail> = {}): NewStagedMail => ({
      receivedAt: at(0),
      updatedAt: at(0),
      status: "new",
      source: "stdin",
      dedupKey: uniq("key"),
      contentHash: "0".repeat(64),
      rawSize: 5,
      raw: Buffer.from("hello"),
      headers: "",
      ...over,
    });
    let uid: number;
    const issueRow = (over: Partial<NewIssue> = {}): NewIssue => ({
      guid: uniq("guid"),
      kind: "ticket",
      state: "todo",
      userIdentificationId: uid,
      subject: "subject",
      openDate: at(0),
      updatedAt: at(0),
      ...over,
    });
    const newIssue = (over: Partial<NewIssue> = {}) => store.write((tx) => createIssue(tx, issueRow(over), "CS-"));

    beforeAll(async () => {
      target = await h.fresh();
      store = await h.open(target);
      uid = (await createIdentification(store, { email: "someone@example.com", dateAdded: at(0) })).id;
    });
    afterAll(async () => {
      await Promise.all(racers.map((r) => r.close()));
      await store?.close();
    });
    /** The suite's racers, started once (a worker thread each on SQLite). */
    const getRacers = async (k: number) => {
      if (racers.length < k) racers = [...racers, ...(await h.racers(target, k - racers.length))];
      return racers.slice(0, k);
    };

    describe("staged mail", () => {
      it("insertStaged returns the row (no raw bytes), with its first history entry; getStaged reads the same", async () => {
        const row = staged({ status: "new", rawTruncated: true, envelopeRecipient: "service@example.com", claimedBy: "host:1", claimedAt: at(0), attempts: 1 });
        const s = (await insertStaged(store, row, "first note"))!;
        expect(s.id).toEqual(expect.any(Number));
        expect(s).not.toHaveProperty("raw");
        expect(s).toMatchObject({ status: "new", dedupKey: row.dedupKey, rawTruncated: true, autoGenerated: null, attempts: 1, claimedBy: "host:1", envelopeRecipient: "service@example.com" });
        expect(await getStaged(store, s.id)).toEqual(s);
        expect(await statusHistory(store, s.id)).toEqual([{ id: expect.any(Number), stagedMailId: s.id, status: "new", at: at(0), note: "first note" }]);
        expect(await findStagedByDedupKey(store, row.dedupKey!)).toEqual({ id: s.id });
        expect(await findStagedByDedupKey(store, "no such key")).toBeUndefined();
        expect(await getStaged(store, 999_999)).toBeUndefined();
      });

      it("insertStaged with a taken dedup key gives undefined and writes nothing; without a key it always inserts", async () => {
        const row = staged();
        const first = (await insertStaged(store, row))!;
        expect(await insertStaged(store, { ...row, receivedAt: at(5) })).toBeUndefined();
        expect(await findStagedByDedupKey(store, row.dedupKey!)).toEqual({ id: first.id });
        expect(await statusHistory(store, first.id)).toHaveLength(1);
        const a = await insertStaged(store, staged({ dedupKey: null, status: "duplicate", duplicateOf: first.id }), `redelivery of staged mail ${first.id}`);
        const b = await insertStaged(store, staged({ dedupKey: null, status: "duplicate", duplicateOf: first.id }));
        expect(a!.id).not.toBe(b!.id);
        // The taken key drew no id: a redelivery leaves no gap in the staged ids an admin sees.
        expect(a!.id).toBe(first.id + 1);
        expect(a).toMatchObject({ status: "duplicate", duplicateOf: first.id, dedupKey: null });
        expect((await statusHistory(store, a!.id))[0].note).toBe(`redelivery of staged mail ${first.id}`);
      });

      it("rawOf gives the bytes back as a Buffer, or the spool path", async () => {
        const bytes = Buffer.from([0, 1, 2, 255, 0x0d, 0x0a]);
        const inRow = (await insertStaged(store, staged({ raw: bytes, rawSize: bytes.length })))!;
        const spooled = (await insertStaged(store, staged({ raw: null, rawPath: "/spool/x.eml" })))!;
        const r = await rawOf(store, inRow.id);
        expect(Buffer.isBuffer(r!.raw)).toBe(true);
        expect(r!.raw!.equals(bytes)).toBe(true);
        expect(r!.rawPath).toBeNull();
        expect(await rawOf(store, spooled.id)).toEqual({ raw: null, rawPath: "/spool/x.eml" });
        expect(await rawOf(store, 999_999)).toBeUndefined();
      });

      it("setStagedStatus writes the patch and the history, the passed statuses first; updateStaged only the patch", async () => {
        const s = (await insertStaged(store, staged()))!;
        await setStagedStatus(store, s.id, "complete", at(10), { trace: "[]", autoGenerated: false, claimedBy: null }, null, ["in_process", "workflow"]);
        await updateStaged(store, s.id, { subject: "later", autoGenerated: true });
        const row = (await getStaged(store, s.id))!;
        expect(row).toMatchObject({ status: "complete", updatedAt: at(10), trace: "[]", autoGenerated: true, subject: "later", claimedBy: null });
        expect((await statusHistory(store, s.id)).map((c) => [c.status, c.at, c.note])).toEqual([
          ["new", at(0), null],
          ["in_process", at(10), null],
          ["workflow", at(10), null],
          ["complete", at(10), null],
        ]);
        await setStagedStatus(store, s.id, "error", at(11), { error: "boom" }, "it broke");
        expect((await statusHistory(store, s.id)).at(-1)).toMatchObject({ status: "error", note: "it broke" });
        expect(await stagedStatus(store, s.id)).toEqual({ status: "error", attempts: 0 });
      });

      it("stagedClaim and takeClaim: a compare-and-set on status, attempts and claim", async () => {
        const s = (await insertStaged(store, staged({ claimedBy: "gone:1", claimedAt: at(0), attempts: 1 })))!;
        const seen = (await stagedClaim(store, s.id))!;
        expect(seen).toEqual({ status: "new", attempts: 1, claimedBy: "gone:1", claimedAt: at(0) });
        // The workflow's own read of the record (locked on PostgreSQL) sees the same claim.
        expect((await stagedForCommit(store, s.id))!.row).toMatchObject(seen);
        // Stale views lose: another attempt count, another holder.
        expect(await takeClaim(store, s.id, { attempts: 0, claimedBy: "gone:1" }, "me:2", at(1))).toBe(false);
        expect(await takeClaim(store, s.id, { attempts: 1, claimedBy: null }, "me:2", at(1))).toBe(false);
        expect(await takeClaim(store, s.id, seen, "me:2", at(1))).toBe(true);
        expect(await stagedClaim(store, s.id)).toEqual({ status: "new", attempts: 2, claimedBy: "me:2", claimedAt: at(1) });
        expect(await takeClaim(store, s.id, seen, "other:3", at(2))).toBe(false);
        // A record with no claim (NULL) is taken by a view that saw none: IS NOT DISTINCT FROM.
        const free = (await insertStaged(store, staged({ claimedBy: null, attempts: 0 })))!;
        expect(await takeClaim(store, free.id, { attempts: 0, claimedBy: null }, "me:2", at(1))).toBe(true);
        // Not `new` any more: nobody takes it.
        await setStagedStatus(store, free.id, "complete", at(2));
        expect(await takeClaim(store, free.id, { attempts: 1, claimedBy: "me:2" }, "x:1", at(3))).toBe(false);
        expect(await stagedClaim(store, 999_999)).toBeUndefined();
      });

      it("lists: by status, stuck, by ids since, counts, another record with the Message-ID", async () => {
        const before = await countStagedByStatus(store);
        const tag = uniq("list");
        const a = (await insertStaged(store, staged({ status: "held", messageId: `<${tag}@x>`, receivedAt: at(100), updatedAt: at(100) })))!;
        const b = (await insertStaged(store, staged({ status: "held", messageId: `<${tag}@x>`, receivedAt: at(200), updatedAt: at(200) })))!;
        const dup = (await insertStaged(store, staged({ status: "duplicate", dedupKey: null, messageId: `<${tag}@x>`, duplicateOf: a.id })))!;
        const after = await countStagedByStatus(store);
        expect(after.held).toBe((before.held ?? 0) + 2);
        expect(after.duplicate).toBe((before.duplicate ?? 0) + 1);
        expect(Object.values(after).every((v) => typeof v === "number")).toBe(true);

        expect(await listStagedIds(store, ["held"], at(150))).toContain(b.id);
        expect(await listStagedIds(store, ["held"], at(150))).not.toContain(a.id);
        expect(await listStagedIds(store, ["held", "duplicate"], null)).toEqual(expect.arrayContaining([a.id, b.id, dup.id]));
        const held = await listStaged(store, { status: "held", limit: 2 });
        expect(held.map((r) => r.id)).toEqual([b.id, a.id]);
        expect(held[0]).toEqual({ id: b.id, receivedAt: at(200), updatedAt: at(200), status: "held", fromAddress: null, subject: null, reason: null, error: null, duplicateOf: null, rawSize: 5, source: "stdin" });
        expect((await listStaged(store, { limit: 1 }))[0].id).toBe(dup.id);

        // The record to commit the workflow on, and another (not a duplicate) with the parse's Message-ID.
        expect(await stagedForCommit(store, b.id, `<${tag}@x>`)).toEqual({ row: await getStaged(store, b.id), messageIdReusedBy: a.id });
        expect((await stagedForCommit(store, a.id, `<${tag}@x>`))?.messageIdReusedBy).toBe(b.id);
        expect((await stagedForCommit(store, a.id, `<none-${tag}@x>`))?.messageIdReusedBy).toBeNull();
        expect((await stagedForCommit(store, a.id))?.messageIdReusedBy).toBeNull();
        expect(await stagedForCommit(store, 999_999)).toBeUndefined();

        const stuck = (await insertStaged(store, staged({ status: "new", updatedAt: "2000-01-01T00:00:00.000Z" })))!;
        const ids = (await listStuckStaged(store, "2000-01-02T00:00:00.000Z")).map((r) => r.id);
        expect(ids).toContain(stuck.id);
        expect(ids).not.toContain(a.id);
      });
    });

    describe("attachments and files", () => {
      it("insert, read, link to an action, delete the unlinked ones; referencedFiles", async () => {
        const s = (await insertStaged(store, staged({ raw: null, rawPath: `/spool/${uniq("raw")}` })))!;
        const file = (name: string) => ({ stagedMailId: s.id, filename: name, contentType: "text/plain", size: 3, contentId: null, sha256: "a".repeat(64), storedPath: `/att/${s.id}/${name}` });
        await writeComponents(store, s.id, {}, [file("a.txt"), file("b.txt")]);
        const rows = await attachmentsOf(store, s.id);
        expect(rows.map((r) => r.filename)).toEqual(["a.txt", "b.txt"]);
        expect(rows[0]).toEqual({ id: expect.any(Number), ...file("a.txt"), actionId: null });
        const files = await referencedFiles(store);
        expect(files.has(s.rawPath!)).toBe(true);
        expect(files.has(`/att/${s.id}/a.txt`)).toBe(true);

        await linkAttachmentsToAction(store, s.id, 4242);
        await writeComponents(store, s.id, {}, [file("c.txt")]);
        // A parse again: the unlinked row (c) gives way to the new ones (d, e); the linked ones stay.
        await store.write((tx) => writeComponents(tx, s.id, { subject: "parsed again", messageId: "<again@example.com>" }, [file("d.txt"), file("e.txt")]));
        expect((await attachmentsOf(store, s.id)).map((r) => [r.filename, r.actionId])).toEqual([
          ["a.txt", 4242],
          ["b.txt", 4242],
          ["d.txt", null],
          ["e.txt", null],
        ]);
        expect(await getStaged(store, s.id)).toMatchObject({ subject: "parsed again", messageId: "<again@example.com>" });
        await store.write((tx) => writeComponents(tx, s.id, { subject: "no attachments now" }, []));
        expect((await attachmentsOf(store, s.id)).map((r) => r.filename)).toEqual(["a.txt", "b.txt"]);
        expect(await getStaged(store, s.id)).toMatchObject({ subject: "no attachments now", messageId: "<again@example.com>" });
        expect(await attachmentsOf(store, 999_999)).toEqual([]);
      });

      it("a parse with thousands of attachments (a hostile mail) stays under both engines' parameter limits", async () => {
        const s = (await insertStaged(store, staged({})))!;
        const many = Array.from({ length: 5_000 }, (_, i) => ({ stagedMailId: s.id, filename: `p${i}`, contentType: "text/plain", size: 1, contentId: null, sha256: "e".repeat(64), storedPath: `/att/${s.id}/p${i}` }));
        await store.write((tx) => writeComponents(tx, s.id, { subject: "many parts" }, many));
        const rows = await attachmentsOf(store, s.id);
        expect(rows.length).toBe(5_000);
        expect(rows[4_999].filename).toBe("p4999");
        expect(await getStaged(store, s.id)).toMatchObject({ subject: "many parts" });
      });
    });

    describe("people", () => {
      it("accounts, users by address (any case), identifications and their address", async () => {
        const acct = await createAccount(store, "Acme", "gold");
        expect(acct).toEqual({ id: expect.any(Number), name: "Acme", supportLevel: "gold" });
        const email = `${uniq("user")}@example.com`;
        const user = await createUser(store, { email, firstNames: "Ann", lastName: "Lee", accountId: acct.id, createdAt: at(0) });
        expect(await findUserByEmail(store, email.toUpperCase())).toEqual(user);
        const none = { userIdentificationId: null, identificationByEmail: null };
        expect(await senderByEmail(store, email.toUpperCase())).toEqual({ userId: user.id, supportLevel: "gold", ...none });
        const viaUser = await createIdentification(store, { userId: user.id, email: null, dateAdded: at(1) });
        await createIdentification(store, { userId: user.id, email: null, dateAdded: at(2) });
        expect(await senderByEmail(store, email)).toEqual({ userId: user.id, supportLevel: "gold", userIdentificationId: viaUser.id, identificationByEmail: null });
        expect(await identificationEmail(store, viaUser.id)).toBe(email);
        const plain = await createUser(store, { email: `${uniq("plain")}@example.com`, createdAt: at(0) });
        expect(await senderByEmail(store, plain.email!)).toEqual({ userId: plain.id, supportLevel: null, ...none });

        const loose = `${uniq("loose")}@example.org`;
        expect(await senderByEmail(store, loose)).toEqual({ userId: null, supportLevel: null, ...none });
        const first = await createIdentification(store, { email: loose, firstNames: "Bo", lastName: null, dateAdded: at(2) });
        await createIdentification(store, { email: loose, dateAdded: at(3) });
        expect(await senderByEmail(store, loose.toUpperCase())).toEqual({ userId: null, supportLevel: null, userIdentificationId: null, identificationByEmail: first.id });
        expect(await identificationEmail(store, first.id)).toBe(loose);
        expect(await identificationEmail(store, 999_999)).toBeNull();
      });
    });

    describe("issues", () => {
      it("createIssue sets the reference from the id; the finders agree and fold case", async () => {
        const issue = await newIssue({ guid: uniq("GUID-Mixed").toLowerCase(), newInfo: false });
        expect(issue.reference).toBe(`CS-${String(issue.id).padStart(6, "0")}`);
        expect(issue).toMatchObject({ kind: "ticket", state: "todo", newInfo: false, unauthenticated: false, mergedIntoId: null, userIdentificationId: uid });
        expect(await getIssue(store, issue.id)).toEqual(issue);
        expect(await getIssueByGuid(store, issue.guid.toUpperCase())).toEqual(issue);
        expect(await getIssueByReference(store, issue.reference!.toLowerCase())).toEqual(issue);
        expect(await getIssueByReference(store, "CS-999999")).toBeUndefined();
        const lower = await store.write((tx) => createIssue(tx, issueRow(), "ab-"));
        expect(lower.reference).toBe(`AB-${String(lower.id).padStart(6, "0")}`);
      });

      it("createIssue: an id past 999,999 keeps all its digits in the reference", async () => {
        // The counter moved on as after a million issues (each engine's own counter).
        if (store.engine === "postgres") await store.run(`SELECT setval(pg_get_serial_sequence('issues', 'id'), 1234566)`);
        else {
          await store.run(`UPDATE sqlite_sequence SET seq = 1234566 WHERE name = 'issues'`);
          await store.run(`INSERT INTO sqlite_sequence (name, seq) SELECT 'issues', 1234566 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'issues')`);
        }
        expect(await newIssue()).toMatchObject({ id: 1234567, reference: "CS-1234567" });
        expect(await store.write((tx) => createIssue(tx, issueRow(), "x-"))).toMatchObject({ id: 1234568, reference: "X-1234568" });
      });

      it("createIssue never reuses an id, so a reference never names two issues over time", async () => {
        const last = await newIssue();
        await store.run(`DELETE FROM issues WHERE id = ?`, [last.id]); // as purge removes the newest issue
        const next = await newIssue();
        expect(next.id).toBe(last.id + 1);
        expect(next.reference).toBe(`CS-${String(next.id).padStart(6, "0")}`);
        if (store.engine === "sqlite") {
          // A counter behind the table (a restore without sqlite_sequence): SQLite's own rule, the
          // highest id plus one, and the counter catches up.
          await store.run(`DELETE FROM sqlite_sequence WHERE name = 'issues'`);
          expect(await newIssue()).toMatchObject({ id: next.id + 1, reference: `CS-${String(next.id + 1).padStart(6, "0")}` });
          expect(await newIssue()).toMatchObject({ id: next.id + 2 });
        }
      });

      // Issue 12: the nearly-always-NULL columns have partial indexes (WHERE col IS NOT NULL); a
      // lookup by one value must still use them (col = ? implies NOT NULL, for both planners).
      it("lookups by a link, the queue or the assignee use their partial indexes", async () => {
        const cols: [string, string][] = [["parent_id", "issues_parent_idx"], ["split_from_id", "issues_split_idx"], ["merged_into_id", "issues_merged_into_idx"], ["converted_to_id", "issues_converted_to_idx"], ["follows_closed_id", "issues_follows_closed_idx"], ["queue", "issues_queue_idx"], ["assignee", "issues_assignee_idx"]];
        for (const [col, index] of cols) {
          const value = col === "queue" || col === "assignee" ? "x" : 1;
          const plan = await store.write(async (tx) => {
            // PostgreSQL would rightly scan a table this small; forbidding that shows whether the index can serve.
            if (tx.engine === "postgres") await tx.run(`SET LOCAL enable_seqscan = off`);
            const rows = (await tx.all(`EXPLAIN ${tx.engine === "sqlite" ? "QUERY PLAN " : ""}SELECT id, reference FROM issues WHERE ${col} = ?`, [value])) as Record<string, unknown>[];
            return rows.map((r) => String(r.detail ?? r["QUERY PLAN"])).join(" | ");
          });
          expect(plan, col).toContain(index);
        }
      });

      it("createIssue inside a transaction is undone with it", async () => {
        const guid = uniq("rolled-back");
        await expect(
          store.write(async (tx) => {
            await createIssue(tx, issueRow({ guid }), "CS-");
            throw new Error("undo");
          }),
        ).rejects.toThrow("undo");
        expect(await getIssueByGuid(store, guid)).toBeUndefined();
      });

      it("updateIssue returns the new row and records each tracked change with its actor", async () => {
        const issue = await newIssue();
        const other = await newIssue();
        const updated = await updateIssue(store, issue.id, { state: "waiting", waitType: "customer", newInfo: true, parentId: other.id, subject: "not tracked", updatedAt: at(30) }, "staged mail 7");
        expect(updated).toMatchObject({ id: issue.id, state: "waiting", waitType: "customer", newInfo: true, parentId: other.id, subject: "not tracked", updatedAt: at(30) });
        expect(await getIssue(store, issue.id)).toEqual(updated);
        await updateIssue(store, issue.id, { state: "waiting", updatedAt: at(31) }, "admin");
        const h = (await issueHistoryOf(store, issue.id)).map(({ at: when, actor, field, oldValue, newValue }) => ({ when, actor, field, oldValue, newValue }));
        expect(h).toEqual([
          { when: at(30), actor: "staged mail 7", field: "state", oldValue: "todo", newValue: "waiting" },
          { when: at(30), actor: "staged mail 7", field: "wait_type", oldValue: null, newValue: "customer" },
          { when: at(30), actor: "staged mail 7", field: "new_info", oldValue: "false", newValue: "true" },
          { when: at(30), actor: "staged mail 7", field: "parent", oldValue: null, newValue: String(other.id) },
        ]);
      });

      it("issuesNamed: by guid or reference, in one query, any case; nothing named, nothing found", async () => {
        const a = await newIssue();
        const b = await newIssue();
        await newIssue();
        const found = await issuesNamed(store, [a.guid.toUpperCase(), "no-such-guid"], [b.reference!.toLowerCase(), "CS-999999"]);
        expect(found.map((i) => i.id).sort((x, y) => x - y)).toEqual([a.id, b.id]);
        expect(found.find((i) => i.id === a.id)).toEqual(a);
        expect((await issuesNamed(store, [a.guid], [a.reference!])).map((i) => i.id)).toEqual([a.id]);
        expect(await issuesNamed(store, [b.guid], [])).toEqual([b]);
        expect(await issuesNamed(store, [], [a.reference!])).toEqual([a]);
        expect(await issuesNamed(store, [], [])).toEqual([]);
      });

      it("listIssues by state, newest first; splitChildrenOf; countIssuesOpenedSince", async () => {
        const ident = (await createIdentification(store, { email: `${uniq("lister")}@example.com`, dateAdded: at(0) })).id;
        const state = uniq("state");
        const p = await newIssue({ state, userIdentificationId: ident, openDate: at(50) });
        const c1 = await newIssue({ splitFromId: p.id, userIdentificationId: ident, openDate: at(60) });
        const c2 = await newIssue({ splitFromId: p.id, state, userIdentificationId: ident, openDate: at(70) });
        expect((await listIssues(store, { state })).map((i) => i.id)).toEqual([c2.id, p.id]);
        expect((await listIssues(store, { state, limit: 1 })).map((i) => i.id)).toEqual([c2.id]);
        expect((await listIssues(store, { limit: 1 }))[0].id).toBe(c2.id);
        expect((await splitChildrenOf(store, p.id)).map((i) => i.id)).toEqual([c1.id, c2.id]);
        expect(await countIssuesOpenedSince(store, ident, at(60))).toBe(2);
        expect(await countIssuesOpenedSince(store, ident, at(0))).toBe(3);
      });
    });

    describe("linkGraph (one recursive query)", () => {
      const ids = (m: Map<number, Issue>) => [...m.keys()].sort((a, b) => a - b);
      const sorted = (...xs: Issue[]) => xs.map((i) => i.id).sort((a, b) => a - b);
      const link = (i: Issue, patch: Partial<NewIssue>) => updateIssue(store, i.id, patch, "test");

      it("follows merged, converted, split (both ways) and parent links, forward only; leaves others out", async () => {
        const [merged, target, converted, splitSource, parent, grandparent, splitChild, unrelated, mergedIntoMerged] = await Promise.all(Array.from({ length: 9 }, () => newIssue()));
        await link(merged, { mergedIntoId: target.id });
        await link(target, { convertedToId: converted.id });
        await link(converted, { splitFromId: splitSource.id, parentId: parent.id });
        await link(parent, { parentId: grandparent.id });
        await link(splitChild, { splitFromId: converted.id });
        await link(mergedIntoMerged, { mergedIntoId: merged.id });
        void unrelated;

        const chain = await linkGraph(store, merged.id);
        // splitSource's split children (converted) are already in; splitChild comes in as converted's.
        expect(ids(chain)).toEqual(sorted(merged, target, converted, splitSource, parent, grandparent, splitChild));
        expect(chain.get(converted.id)).toEqual(await getIssue(store, converted.id));
        expect(chain.get(merged.id)!.newInfo).toBe(false);
        // From further along, what points at it is not followed back.
        expect(ids(await linkGraph(store, converted.id))).toEqual(sorted(converted, splitSource, parent, grandparent, splitChild));
        expect(ids(await linkGraph(store, grandparent.id))).toEqual(sorted(grandparent));
        expect(ids(await linkGraph(store, splitSource.id))).toEqual(sorted(splitSource, converted, splitChild, parent, grandparent));
      });

      it("ends on a cycle (a corrupt chain) and on a self-link", async () => {
        const [x, y, z, w] = await Promise.all(Array.from({ length: 4 }, () => newIssue()));
        await link(x, { mergedIntoId: y.id });
        await link(y, { mergedIntoId: x.id });
        await link(z, { parentId: x.id });
        await link(w, { parentId: w.id, splitFromId: w.id });
        expect(ids(await linkGraph(store, z.id))).toEqual(sorted(x, y, z));
        expect(ids(await linkGraph(store, y.id))).toEqual(sorted(x, y));
        expect(ids(await linkGraph(store, w.id))).toEqual(sorted(w));
      });

      it("an unknown id gives an empty graph", async () => {
        expect((await linkGraph(store, 999_999)).size).toBe(0);
      });
    });

    describe("interactions and actions", () => {
      it("insert, actionsOfIssue with the staged mail, issuesOfStaged, actionDetails", async () => {
        const s = (await insertStaged(store, staged()))!;
        const [i1, i2] = [await newIssue(), await newIssue()];
        const interaction = await insertInteraction(store, { userIdentificationId: uid, stagedMailId: s.id, interactionDate: at(0), originator: "customer", type: "email", headers: "h" });
        const a1 = await insertAction(store, { issueId: i1.id, interactionId: interaction, details: "text one", replyText: "one", createdAt: at(1) });
        const a2 = await insertAction(store, { issueId: i2.id, interactionId: interaction, details: "text two", createdAt: at(1) });
        expect(await issuesOfStaged(store, s.id)).toEqual([
          { issueId: i1.id, actionId: a1 },
          { issueId: i2.id, actionId: a2 },
        ]);
        expect(await actionsOfIssue(store, i1.id)).toEqual([{ id: a1, interactionId: interaction, details: "text one", replyText: "one", createdAt: at(1), stagedMailId: s.id }]);
        expect(await actionDetails(store, a2)).toBe("text two");
        expect(await actionDetails(store, 999_999)).toBeNull();
        expect(await issuesOfStaged(store, 999_999)).toEqual([]);
      });

      it("insertInteractionWithActions: the interaction and its action for one issue, the action pointing to it; several issues in order", async () => {
        const s = (await insertStaged(store, staged()))!;
        const issue = await newIssue();
        const interaction = { userIdentificationId: uid, stagedMailId: s.id, interactionDate: at(0), originator: "customer", type: "email", headers: "h" };
        const r = await store.write((tx) => insertInteractionWithActions(tx, interaction, { details: "the text", replyText: "new part", createdAt: at(2) }, [issue.id]));
        expect(await issuesOfStaged(store, s.id)).toEqual([{ issueId: issue.id, actionId: r.actionIds[0] }]);
        expect(await actionsOfIssue(store, issue.id)).toEqual([{ id: r.actionIds[0], interactionId: r.interactionId, details: "the text", replyText: "new part", createdAt: at(2), stagedMailId: s.id }]);
        const s2 = (await insertStaged(store, staged()))!;
        const [i1, i2] = [await newIssue(), await newIssue()];
        const two = await store.write((tx) => insertInteractionWithActions(tx, { ...interaction, stagedMailId: s2.id }, { details: "x", createdAt: at(3) }, [i2.id, i1.id]));
        expect(await issuesOfStaged(store, s2.id)).toEqual([
          { issueId: i2.id, actionId: two.actionIds[0] },
          { issueId: i1.id, actionId: two.actionIds[1] },
        ]);
      });
    });

    // Import's batch (TxOptions.batch): on PostgreSQL these rows are written with ids drawn ahead and
    // returned without being read back (sql.ts insertAhead); what they return is what is stored.
    describe("in a batch transaction", () => {
      it("insertStagedAhead (where ids are drawn ahead: import's mails) returns the row as stored, its bytes and first history entry written", async () => {
        const row = staged({ source: "import", rawTruncated: false, attempts: 1, claimedBy: "host:2", claimedAt: at(0), autoGenerated: null, raw: Buffer.from("the raw bytes") });
        const s = (await store.write(async (tx) => (tx.nextId ? insertStagedAhead(tx, row) : insertStaged(tx, row)), { batch: true }))!;
        expect(s).not.toHaveProperty("raw");
        expect(s).toMatchObject({ source: "import", dedupKey: row.dedupKey, autoGenerated: null, rawTruncated: false, attempts: 1 });
        expect(await getStaged(store, s.id)).toEqual(s);
        expect(await statusHistory(store, s.id)).toEqual([{ id: expect.any(Number), stagedMailId: s.id, status: "new", at: at(0), note: null }]);
        expect((await rawOf(store, s.id))!.raw!.toString()).toBe("the raw bytes");
      });

      it("createIssue, createIdentification and insertInteractionWithActions return the rows as stored", async () => {
        const s = (await insertStaged(store, staged()))!;
        const made = await store.write(
          async (tx) => {
            const ident = await createIdentification(tx, { email: uniq("batch") + "@example.com", firstNames: "Ann", lastName: null, userId: null, dateAdded: at(1) });
            const plain = await createIssue(tx, issueRow({ userIdentificationId: ident.id }), "bt-");
            const flooded = await createIssue(tx, issueRow({ userIdentificationId: ident.id, queue: "q", assignee: "a", newInfo: true, floodAt: at(2), unauthenticated: true, followsClosedId: plain.id }), "BT-");
            const one = await insertInteractionWithActions(tx, { userIdentificationId: ident.id, stagedMailId: s.id, interactionDate: at(3), originator: "customer", type: "email", headers: "h" }, { details: "d", replyText: "", createdAt: at(3) }, [plain.id]);
            const two = await tx.write((sp) => insertInteractionWithActions(sp, { userIdentificationId: ident.id, stagedMailId: s.id, interactionDate: at(4), originator: "customer", type: "email", headers: "" }, { details: "e", createdAt: at(4) }, [flooded.id, plain.id]));
            return { ident, plain, flooded, one, two };
          },
          { batch: true },
        );
        expect(await getIssue(store, made.plain.id)).toEqual(made.plain);
        expect(await getIssue(store, made.flooded.id)).toEqual(made.flooded);
        expect(made.plain).toMatchObject({ reference: `BT-${String(made.plain.id).padStart(6, "0")}`, newInfo: false, unauthenticated: false, mergedIntoId: null, closedDate: null });
        expect(made.flooded).toMatchObject({ newInfo: true, unauthenticated: true, floodAt: at(2), followsClosedId: made.plain.id });
        expect(await store.get(`SELECT id, user_id AS "userId", email, first_names AS "firstNames", last_name AS "lastName", date_added AS "dateAdded" FROM user_identifications WHERE id = ?`, [made.ident.id])).toEqual(made.ident);
        expect(await issuesOfStaged(store, s.id)).toEqual([
          { issueId: made.plain.id, actionId: made.one.actionIds[0] },
          { issueId: made.flooded.id, actionId: made.two.actionIds[0] },
          { issueId: made.plain.id, actionId: made.two.actionIds[1] },
        ]);
        expect((await actionsOfIssue(store, made.plain.id)).map((a) => [a.id, a.interactionId, a.details])).toEqual([
          [made.one.actionIds[0], made.one.interactionId, "d"],
          [made.two.actionIds[1], made.two.interactionId, "e"],
        ]);
      });
    });

    describe("participants", () => {
      it("the customer first, then who wrote in and who was copied, once each, lower-case", async () => {
        const email = `${uniq("Registered")}@Example.com`;
        const user = await createUser(store, { email: email.toLowerCase(), createdAt: at(0) });
        const customer = await createIdentification(store, { userId: user.id, email: null, dateAdded: at(0) });
        const writer = await createIdentification(store, { email: "writer@example.org", dateAdded: at(0) });
        const issue = await newIssue({ userIdentificationId: customer.id });
        const wrote = async (ident: number) => {
          const s = (await insertStaged(store, staged()))!;
          const interaction = await insertInteraction(store, { userIdentificationId: ident, stagedMailId: s.id, interactionDate: at(1), originator: "customer", type: "email", headers: "" });
          await insertAction(store, { issueId: issue.id, interactionId: interaction, details: "x", createdAt: at(1) });
          return s.id;
        };
        const first = await wrote(customer.id);
        const second = await wrote(writer.id);
        await wrote(writer.id);
        await wrote(customer.id);
        await addCcParticipants(store, issue.id, ["cc@example.net", "writer@example.org"], second, at(2));
        await addCcParticipants(store, issue.id, ["cc@example.net"], second + 1, at(3)); // already on it: left as it joined
        expect(await issueParticipants(store, issue.id)).toEqual([
          { email: email.toLowerCase(), joined: "customer", stagedMailId: null },
          { email: "writer@example.org", joined: "wrote in", stagedMailId: second },
          { email: "cc@example.net", joined: "cc", stagedMailId: second },
        ]);
        expect(first).toBeLessThan(second);
        expect(await participantEmails(store, issue.id)).toEqual([email.toLowerCase(), "writer@example.org", "cc@example.net"]);
        expect(await issueParticipants(store, 999_999)).toEqual([]);
      });
    });

    describe("outbound mail", () => {
      it("counts confirmations by address (any case) and time, skipped ones not counted; admin notices; digest; retry; by Message-ID", async () => {
        const to = `${uniq("to")}@example.com`;
        const out = (over: Partial<Parameters<typeof insertOutbound>[1]>) =>
          insertOutbound(store, { kind: "confirmation", toAddress: to, toKey: to, subject: "s", messageId: `<${uniq("m")}@x>`, status: "sent", createdAt: at(100), ...over });
        const sent = await out({});
        await out({ createdAt: at(200), status: "failed", attempts: 1 });
        await out({ createdAt: at(300), status: "skipped" });
        await out({ createdAt: at(50) });
        expect(await countConfirmationsSince(store, to.toUpperCase(), at(100))).toBe(2);
        expect(await countConfirmationsSince(store, to, at(0))).toBe(3);
        expect(await countConfirmationsSince(store, to, at(201))).toBe(0);
        expect(await countConfirmationsToKey(store, to, at(100))).toBe(2);

        const adminSince = at(10_000);
        const before = await countAdminNoticesSince(store, adminSince);
        const digest = await out({ kind: "admin-error", status: "digest", createdAt: at(10_001) });
        await out({ kind: "admin-error", status: "sent", createdAt: at(10_001) });
        await out({ kind: "admin-error", status: "digested", createdAt: at(10_001) });
        expect(await countAdminNoticesSince(store, adminSince)).toBe(before + 1);
        expect((await pendingDigest(store)).map((o) => o.id)).toContain(digest);

        const mid = `<${uniq("mid")}@x>`;
        const failed = await out({ status: "failed", attempts: 2, messageId: mid });
        await updateOutbound(store, failed, { error: "refused", lastAttemptAt: at(400) });
        expect(await getOutboundByMessageId(store, mid)).toMatchObject({ id: failed, status: "failed", error: "refused", attempts: 2, lastAttemptAt: at(400), toAddress: to });
        expect((await outboundToRetry(store, [], 3)).map((o) => o.id)).toContain(failed);
        expect((await outboundToRetry(store, [], 2)).map((o) => o.id)).not.toContain(failed);
        expect((await outboundToRetry(store, [sent, failed], 0)).map((o) => o.id)).toEqual([sent, failed]);
      });
    });

    describe("concurrency (racers on their own connections)", () => {
      it("the claim: two racers with the same view of a record, exactly one takes it, every time", async () => {
        const [a, b] = await getRacers(2);
        for (let round = 0; round < 5; round++) {
          const s = (await insertStaged(store, staged({ claimedBy: "gone:1", claimedAt: at(0), attempts: 1 })))!;
          const seen = (await stagedClaim(store, s.id))!;
          const wins = await Promise.all([a.run("claim", { id: s.id, seen, by: "a:1", at: at(1), holdMs: 100 }), b.run("claim", { id: s.id, seen, by: "b:2", at: at(1), holdMs: 100 })]);
          expect(wins.filter(Boolean)).toHaveLength(1);
          expect(await stagedClaim(store, s.id)).toEqual({ status: "new", attempts: 2, claimedBy: wins[0] ? "a:1" : "b:2", claimedAt: at(1) });
        }
      });

      it("dedup: two writers stage the same dedup key at once, each in its own transaction: one row, the other gets undefined", async () => {
        const [a, b] = await getRacers(2);
        for (let round = 0; round < 5; round++) {
          const row = staged({ raw: null });
          const ids = await Promise.all([a.run("stage", { row, holdMs: 100 }), b.run("stage", { row, holdMs: 100 })]);
          expect(ids.filter((id) => id !== null)).toHaveLength(1);
          const id = ids.find((x) => x !== null)!;
          expect(await findStagedByDedupKey(store, row.dedupKey!)).toEqual({ id });
          expect(await store.get<{ n: number }>(`SELECT count(*) AS "n" FROM staged_mails WHERE dedup_key = ?`, [row.dedupKey])).toEqual({ n: 1 });
          expect(await statusHistory(store, id)).toHaveLength(1);
        }
      });

      it("references: 20 createIssue at once from 2 stores give 20 distinct references, each its id's", async () => {
        const [a, b] = await getRacers(2);
        const tag = uniq("refs");
        const made = (
          await Promise.all([
            a.run("openIssues", { count: 10, prefix: "CS-", tag: `${tag}-a`, userIdentificationId: uid, at: at(0) }),
            b.run("openIssues", { count: 10, prefix: "CS-", tag: `${tag}-b`, userIdentificationId: uid, at: at(0) }),
          ])
        ).flat();
        expect(made).toHaveLength(20);
        expect(new Set(made.map((i) => i.id)).size).toBe(20);
        expect(new Set(made.map((i) => i.reference)).size).toBe(20);
        for (const i of made) {
          expect(i.reference).toBe(`CS-${String(i.id).padStart(6, "0")}`);
          expect((await getIssue(store, i.id))!.reference).toBe(i.reference);
        }
      });

      it("the rate limit: 8 transactions at once, each lockKey → count → insert below 3: exactly 3 rows", async () => {
        const [a, b] = await getRacers(2);
        const address = `${uniq("limited")}@example.com`;
        const args = (tag: string) => ({ count: 4, lock: true, key: `confirm:${address}`, address, limit: 3, tag: `${address}-${tag}`, since: at(0), at: at(1), holdMs: 30 });
        const granted = (await Promise.all([a.run("reserve", args("a")), b.run("reserve", args("b"))])).flat();
        expect(granted.filter(Boolean)).toHaveLength(3);
        expect(await countConfirmationsToKey(store, address, at(0))).toBe(3);
      });

      it(
        h.serialWriters
          ? "the rate limit without lockKey: still exactly 3 (one writer at a time)"
          : "the rate limit without lockKey overshoots (so the lock is what keeps it)",
        async () => {
          const [a, b] = await getRacers(2);
          const address = `${uniq("unlocked")}@example.com`;
          const args = (tag: string) => ({ count: 4, lock: false, key: `confirm:${address}`, address, limit: 3, tag: `${address}-${tag}`, since: at(0), at: at(1), holdMs: 200 });
          await Promise.all([a.run("reserve", args("a")), b.run("reserve", args("b"))]);
          const rows = await countConfirmationsToKey(store, address, at(0));
          if (h.serialWriters) expect(rows).toBe(3);
          else expect(rows).toBeGreaterThan(3);
        },
      );

      it("a setting made by two first users at once: both get the same value", async () => {
        const [a, b] = await getRacers(2);
        const key = uniq("setting");
        const got = await Promise.all([a.run("setting", { key, value: "from a", holdMs: 100 }), b.run("setting", { key, value: "from b", holdMs: 100 })]);
        expect(got[0]).toBe(got[1]);
        expect(await store.get(`SELECT value FROM settings WHERE key = ?`, [key])).toEqual({ value: got[0] });
      });
    });
  });
}

/** Racers for an engine whose stores can race within one thread (PostgreSQL: each its own pool). */
export async function inProcessRacers(open: () => Promise<Store>, n: number): Promise<Racer[]> {
  const { scenarios } = await import("./store-scenarios.js");
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = await open();
      const run = ((name: ScenarioName, args: unknown) => (scenarios[name] as (db: Db, a: unknown) => Promise<unknown>)(s, args)) as Racer["run"];
      return { run, close: () => s.close() };
    }),
  );
}
