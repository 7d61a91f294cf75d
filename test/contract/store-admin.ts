// The store contract, second part: the named queries of the admin commands, the web console, the
// trust rules, bounces and the LMTP daemon (src/store/queries/*-queries.ts), with real rows, on
// every engine (store.test.ts). Each test makes rows of its own (a tag in their addresses and
// subjects) so that lists and counts over the whole table stay checkable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertIssueNote, markOutboundBounced, notesOfIssue, outboundByMessageIds, rawHeadOf } from "../../src/store/queries/bounce-queries.js";
import { sendersOfActions } from "../../src/store/queries/conversation-queries.js";
import { countFailedOutbound, countKeptAddressSecrets, countStagedInError, countStuckStaged, failedPastLimitIds } from "../../src/store/queries/doctor-queries.js";
import { getAttachment } from "../../src/store/queries/export-queries.js";
import { issueHistoryOf, recordIssueEvent } from "../../src/store/queries/history-queries.js";
import { listAccounts, listIssuesFiltered, listOutboundFiltered, listStagedFiltered, listUsers } from "../../src/store/queries/list-queries.js";
import {
  attachmentsOf,
  createAccount,
  createIdentification,
  createIssue,
  createUser,
  getOutbound,
  insertAction,
  writeComponents,
  insertInteraction,
  insertOutbound,
  insertStaged,
  setStagedStatus,
  updateIssue,
  type NewIssue,
  type NewStagedMail,
} from "../../src/store/queries/queries.js";
import { filesOfStaged, noneRemoved, removeOutboundBefore, removePerson, removeStaged, rowsOfPerson, stagedOlderThan, unreferenced } from "../../src/store/queries/purge-queries.js";
import { listNewStagedIds, listStuckInProcessIds } from "../../src/store/queries/serve-queries.js";
import { countConfirmationsSinceAll, countConfirmationsToDomain, countFloodIssues, ensureSetting } from "../../src/store/queries/trust-queries.js";
import { earliestUnlinkedIdentification, linkIdentification } from "../../src/store/queries/user-queries.js";
import {
  attachmentFile,
  conversation,
  htmlBodyOf,
  identificationView,
  interactionView,
  issueLinks,
  issuesPage,
  outboundOfIssue,
  outboundPage,
  outboundStatus,
  resubmittableIds,
  rawOf as webRawOf,
  stagedCounts,
  stagedPage,
  statusChangesSince,
} from "../../src/store/queries/web-queries.js";
import type { Store } from "../../src/store/store.js";

export interface AdminHarness {
  name: string;
  fresh(): Promise<string>;
  open(target: string): Promise<Store>;
}

const T0 = "2030-01-01T00:00:00.000Z";
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

export function adminQueriesContract(h: AdminHarness): void {
  describe(`store contract, admin and console queries: ${h.name}`, () => {
    let store: Store;
    let n = 0;
    const uniq = (what: string) => `${what}${++n}`;
    const staged = (over: Partial<NewStagedMail> = {}): NewStagedMail => ({
      receivedAt: at(0),
      updatedAt: at(0),
      status: "new",
      source: "stdin",
      dedupKey: uniq("key-"),
      contentHash: "0".repeat(64),
      rawSize: 5,
      raw: Buffer.from("hello"),
      headers: "",
      ...over,
    });
    const stage = async (over: Partial<NewStagedMail> = {}) => (await insertStaged(store, staged(over)))!;
    let uid: number;
    const newIssue = (over: Partial<NewIssue> = {}) =>
      store.write((tx) => createIssue(tx, { guid: uniq("guid-"), kind: "ticket", state: "todo", userIdentificationId: uid, subject: "subject", openDate: at(0), updatedAt: at(0), ...over }, "CS-"));
    /** A mail from `ident` recorded on `issueId`: staged, interaction, action. */
    const wrote = async (ident: number, issueId: number, over: Partial<NewStagedMail> = {}, details = "text", when = at(1)) => {
      const s = await stage({ status: "complete", ...over });
      const interaction = await insertInteraction(store, { userIdentificationId: ident, stagedMailId: s.id, interactionDate: when, originator: "customer", type: "email", headers: "" });
      const action = await insertAction(store, { issueId, interactionId: interaction, details, createdAt: when });
      await store.run(`UPDATE staged_mails SET interaction_id = ? WHERE id = ?`, [interaction, s.id]);
      return { staged: s, interaction, action };
    };

    beforeAll(async () => {
      store = await h.open(await h.fresh());
      uid = (await createIdentification(store, { email: "base@example.com", dateAdded: at(0) })).id;
    });
    afterAll(async () => {
      await store?.close();
    });

    describe("admin lists (list-queries)", () => {
      it("staged mail by status, time, sender (any case) and text on the record or its actions, with the total", async () => {
        const tag = uniq("lst");
        const a = await stage({ status: "held", fromAddress: `ann.${tag}@example.com`, fromName: "Ann", subject: `Printer ${tag}`, receivedAt: at(10) });
        const b = await stage({ status: "held", fromAddress: `bob.${tag}@example.com`, fromName: `Bob ${tag.toUpperCase()}`, subject: "other", textBody: `the 50%_${tag} case`, receivedAt: at(20) });
        const issue = await newIssue();
        const c = await wrote(uid, issue.id, { fromAddress: `cy.${tag}@example.com`, subject: "no match", textBody: null, receivedAt: at(30) }, `Details ${tag.toUpperCase()} here`);
        const ids = async (f: Parameters<typeof listStagedFiltered>[1]) => {
          const r = await listStagedFiltered(store, f);
          return { ids: r.rows.map((x) => x.id), total: r.total };
        };
        expect(await ids({ limit: 10, from: tag.toUpperCase() })).toEqual({ ids: [c.staged.id, b.id, a.id], total: 3 });
        expect(await ids({ limit: 1, from: tag })).toEqual({ ids: [c.staged.id], total: 3 });
        expect(await ids({ limit: 10, from: tag, status: "held", since: at(15) })).toEqual({ ids: [b.id], total: 1 });
        expect(await ids({ limit: 10, search: tag.toUpperCase() })).toEqual({ ids: [c.staged.id, b.id, a.id], total: 3 });
        // LIKE's wildcards in the text are taken literally.
        expect(await ids({ limit: 10, search: `50%_${tag}` })).toEqual({ ids: [b.id], total: 1 });
        expect(await ids({ limit: 10, search: `5_%_${tag}` })).toEqual({ ids: [], total: 0 });
        const row = (await listStagedFiltered(store, { limit: 1, from: `ann.${tag}` })).rows[0];
        expect(row).toEqual({ id: a.id, receivedAt: at(10), updatedAt: at(0), status: "held", fromAddress: `ann.${tag}@example.com`, subject: `Printer ${tag}`, reason: null, error: null, duplicateOf: null, rawSize: 5, source: "stdin" });
      });

      it("issues by state, time, customer address (the user's when registered) and subject or reference", async () => {
        const tag = uniq("iss");
        const user = await createUser(store, { email: `reg.${tag}@example.com`, createdAt: at(0) });
        const viaUser = (await createIdentification(store, { userId: user.id, email: `old.${tag}@example.com`, dateAdded: at(0) })).id;
        const loose = (await createIdentification(store, { email: `loose.${tag}@example.com`, dateAdded: at(0) })).id;
        const i1 = await newIssue({ userIdentificationId: viaUser, subject: `Broken ${tag}`, updatedAt: at(5) });
        const i2 = await newIssue({ userIdentificationId: loose, subject: "Other", state: "closed", updatedAt: at(50), newInfo: true });
        const r = await listIssuesFiltered(store, { limit: 10, from: tag });
        expect(r.total).toBe(2);
        expect(r.rows.map((i) => [i.id, i.customerEmail, i.newInfo])).toEqual([
          [i2.id, `loose.${tag}@example.com`, true],
          [i1.id, `reg.${tag}@example.com`, false],
        ]);
        expect((await listIssuesFiltered(store, { limit: 10, from: `REG.${tag}` })).rows.map((i) => i.id)).toEqual([i1.id]);
        expect((await listIssuesFiltered(store, { limit: 10, from: tag, state: "closed" })).rows.map((i) => i.id)).toEqual([i2.id]);
        expect((await listIssuesFiltered(store, { limit: 10, from: tag, since: at(10) })).rows.map((i) => i.id)).toEqual([i2.id]);
        expect((await listIssuesFiltered(store, { limit: 10, search: `broken ${tag}` })).rows.map((i) => i.id)).toEqual([i1.id]);
        expect((await listIssuesFiltered(store, { limit: 10, search: i2.reference!.toLowerCase() })).rows.map((i) => i.id)).toEqual([i2.id]);
      });

      it("outbound by correspondent (or the sender of the mail that caused it) and subject; users and accounts with their counts", async () => {
        const tag = uniq("out");
        const s = await stage({ fromAddress: `sender.${tag}@example.com` });
        const o1 = await insertOutbound(store, { kind: "confirmation", toAddress: `To.${tag}@Example.com`, subject: `Re: ${tag}`, messageId: `<${tag}-1@x>`, status: "sent", createdAt: at(1) });
        const o2 = await insertOutbound(store, { kind: "confirmation", stagedMailId: s.id, toAddress: "elsewhere@example.com", subject: "Hello", messageId: `<${tag}-2@x>`, status: "sent", createdAt: at(2) });
        expect(await listOutboundFiltered(store, { limit: 10, from: `to.${tag}` }).then((r) => [r.total, r.rows.map((o) => o.id)])).toEqual([1, [o1]]);
        expect(await listOutboundFiltered(store, { limit: 10, from: `SENDER.${tag}` }).then((r) => r.rows.map((o) => o.id))).toEqual([o2]);
        expect(await listOutboundFiltered(store, { limit: 10, search: `RE: ${tag}` }).then((r) => r.rows.map((o) => o.id))).toEqual([o1]);

        const acct = await createAccount(store, `Acct ${tag}`, "silver");
        const u1 = await createUser(store, { email: `u1.${tag}@example.com`, accountId: acct.id, createdAt: at(0) });
        await createUser(store, { email: `u2.${tag}@example.com`, accountId: acct.id, createdAt: at(0) });
        await createIdentification(store, { userId: u1.id, dateAdded: at(0) });
        await createIdentification(store, { userId: u1.id, dateAdded: at(1) });
        expect((await listUsers(store)).find((u) => u.id === u1.id)).toMatchObject({ email: `u1.${tag}@example.com`, accountName: `Acct ${tag}`, identifications: 2 });
        expect((await listAccounts(store)).find((a) => a.id === acct.id)).toEqual({ id: acct.id, name: `Acct ${tag}`, supportLevel: "silver", users: 2 });
      });
    });

    describe("trust, flood, settings, identifications (trust-queries, user-queries)", () => {
      it("confirmations per domain and in all; the flood count by flood time, authenticated only unless asked", async () => {
        const domain = `${uniq("dom")}.example`;
        const since = at(1000);
        const all = await countConfirmationsSinceAll(store, since);
        await insertOutbound(store, { kind: "confirmation", toAddress: `a@${domain}`, toDomain: domain, subject: "s", messageId: `<${domain}-1@x>`, status: "sent", createdAt: at(1001) });
        await insertOutbound(store, { kind: "confirmation", toAddress: `b@${domain}`, toDomain: domain, subject: "s", messageId: `<${domain}-2@x>`, status: "skipped", createdAt: at(1001) });
        await insertOutbound(store, { kind: "confirmation", toAddress: `c@${domain}`, toDomain: domain, subject: "s", messageId: `<${domain}-3@x>`, status: "failed", createdAt: at(999) });
        expect(await countConfirmationsToDomain(store, domain, since)).toBe(1);
        expect(await countConfirmationsToDomain(store, domain, at(0))).toBe(2);
        expect(await countConfirmationsSinceAll(store, since)).toBe(all + 1);

        const ident = (await createIdentification(store, { email: `${uniq("flood")}@example.com`, dateAdded: at(0) })).id;
        // Counted at the flood time where the issue has one (imported or unauthenticated mail), else at its open time.
        const i1 = await newIssue({ userIdentificationId: ident, openDate: at(100), floodAt: at(300), unauthenticated: false });
        const i2 = await newIssue({ userIdentificationId: ident, openDate: at(100), floodAt: at(200), unauthenticated: true });
        await newIssue({ userIdentificationId: ident, openDate: at(500) });
        expect([i1.floodAt, i1.unauthenticated, i2.floodAt, i2.unauthenticated]).toEqual([at(300), false, at(200), true]);
        expect(await countFloodIssues(store, ident, at(150), at(400), false)).toBe(1);
        expect(await countFloodIssues(store, ident, at(150), at(400), true)).toBe(2);
        expect(await countFloodIssues(store, ident, at(0), at(1000), true)).toBe(3);
      });

      it("ensureSetting makes a value once; linking identifications to a user", async () => {
        const key = uniq("setting");
        expect(await ensureSetting(store, key, () => "first")).toBe("first");
        expect(await ensureSetting(store, key, () => "second")).toBe("first");

        const email = `${uniq("link")}@example.com`;
        const first = await createIdentification(store, { email, dateAdded: at(0) });
        await createIdentification(store, { email, dateAdded: at(1) });
        expect(await earliestUnlinkedIdentification(store, email.toUpperCase())).toEqual({ id: first.id, email });
        const user = await createUser(store, { email: `user.${email}`, createdAt: at(0) });
        expect(await linkIdentification(store, first.id, user.id)).toBe(true);
        expect(await linkIdentification(store, first.id, user.id)).toBe(false);
        expect((await earliestUnlinkedIdentification(store, email))!.id).not.toBe(first.id);
      });
    });

    describe("bounces, notes, history events, senders, exports", () => {
      it("outbox by Message-IDs, marked bounced; notes of an issue; the head of the raw bytes", async () => {
        const tag = uniq("bnc");
        const issue = await newIssue();
        const ids = [await insertOutbound(store, { kind: "confirmation", issueId: issue.id, toAddress: "x@example.com", subject: "s", messageId: `<${tag}-a@x>`, status: "sent", createdAt: at(1) })];
        ids.push(await insertOutbound(store, { kind: "confirmation", toAddress: "y@example.com", subject: "s", messageId: `<${tag}-b@x>`, status: "sent", createdAt: at(1) }));
        expect((await outboundByMessageIds(store, [`<${tag}-b@x>`, `<${tag}-a@x>`, `<${tag}-a@x>`, "<none@x>"])).map((o) => o.id)).toEqual(ids);
        expect(await outboundByMessageIds(store, [])).toEqual([]);
        const report = await stage({ raw: Buffer.concat([Buffer.from("Return-Path: <>\r\n\r\n"), Buffer.from([0, 0xff, 0x80])]), rawSize: 22 });
        await markOutboundBounced(store, ids[0], { status: "5.1.1", diagnostic: "no such user", at: at(5), stagedMailId: report.id });
        expect(await getOutbound(store, ids[0])).toMatchObject({ status: "bounced", bounceStatus: "5.1.1", bounceDiagnostic: "no such user", bouncedAt: at(5), bounceStagedMailId: report.id });

        const note = await insertIssueNote(store, { issueId: issue.id, stagedMailId: report.id, kind: "bounce", text: "bounced", createdAt: at(5) });
        expect(await notesOfIssue(store, issue.id)).toEqual([{ id: note, issueId: issue.id, stagedMailId: report.id, kind: "bounce", text: "bounced", createdAt: at(5) }]);

        const head = await rawHeadOf(store, report.id, 16);
        expect(Buffer.isBuffer(head.head)).toBe(true);
        expect(head).toEqual({ head: Buffer.from("Return-Path: <>\r"), path: null });
        expect((await rawHeadOf(store, report.id, 1000)).head!.equals(Buffer.concat([Buffer.from("Return-Path: <>\r\n\r\n"), Buffer.from([0, 0xff, 0x80])]))).toBe(true);
        const spooled = await stage({ raw: null, rawPath: "/spool/y" });
        expect(await rawHeadOf(store, spooled.id, 16)).toEqual({ head: null, path: "/spool/y" });
        expect(await rawHeadOf(store, 999_999, 16)).toEqual({ head: null, path: null });
      });

      it("recordIssueEvent joins the history; sendersOfActions names who wrote; getAttachment", async () => {
        const issue = await newIssue();
        await recordIssueEvent(store, issue.id, at(2), "admin", "split_into", "CS-000009");
        await updateIssue(store, issue.id, { queue: "billing", updatedAt: at(3) }, "admin");
        expect((await issueHistoryOf(store, issue.id)).map((c) => [c.field, c.oldValue, c.newValue])).toEqual([
          ["split_into", null, "CS-000009"],
          ["queue", null, "billing"],
        ]);

        const user = await createUser(store, { email: `${uniq("named")}@example.com`, firstNames: "Ann", lastName: "Lee", createdAt: at(0) });
        const viaUser = (await createIdentification(store, { userId: user.id, dateAdded: at(0) })).id;
        const bare = (await createIdentification(store, { email: "bare@example.com", dateAdded: at(0) })).id;
        const w1 = await wrote(viaUser, issue.id, {}, "one", at(10));
        const w2 = await wrote(bare, issue.id, {}, "two", at(11));
        expect(await sendersOfActions(store, issue.id)).toEqual([
          { actionId: w1.action, from: user.email, fromName: "Ann Lee", date: at(10) },
          { actionId: w2.action, from: "bare@example.com", fromName: null, date: at(11) },
        ]);

        await writeComponents(store, w1.staged.id, {}, [{ stagedMailId: w1.staged.id, filename: "f.pdf", contentType: "application/pdf", size: 9, contentId: null, sha256: "b".repeat(64), storedPath: "/att/f.pdf" }]);
        const [att] = await attachmentsOf(store, w1.staged.id);
        expect(await getAttachment(store, att.id)).toEqual(att);
        expect(await attachmentFile(store, w1.staged.id, att.id)).toEqual({ id: att.id, filename: "f.pdf", contentType: "application/pdf", size: 9, storedPath: "/att/f.pdf" });
        expect(await attachmentFile(store, w2.staged.id, att.id)).toBeUndefined();
      });
    });

    describe("retention and erasure (purge-queries)", () => {
      it("staged mail older than a time in some statuses; its files, those still referenced kept; removed with what it caused", async () => {
        const tag = uniq("old");
        const before = "2000-06-01T00:00:00.000Z";
        const old = await stage({ status: "complete", receivedAt: "2000-01-01T00:00:00.000Z", raw: null, rawPath: `/spool/${tag}-1` });
        const oldHeld = await stage({ status: "held", receivedAt: "2000-01-01T00:00:00.000Z" });
        const young = await stage({ status: "complete", receivedAt: "2000-12-01T00:00:00.000Z", raw: null, rawPath: `/spool/${tag}-shared` });
        const issue = await newIssue();
        const w = await wrote(uid, issue.id, { receivedAt: "2000-01-02T00:00:00.000Z" });
        await writeComponents(store, old.id, {}, [
          { stagedMailId: old.id, filename: "a", contentType: null, size: 1, contentId: null, sha256: "c".repeat(64), storedPath: `/att/${tag}-own` },
          { stagedMailId: old.id, filename: "b", contentType: null, size: 1, contentId: null, sha256: "d".repeat(64), storedPath: `/spool/${tag}-shared` },
        ]);
        await insertOutbound(store, { kind: "confirmation", stagedMailId: old.id, toAddress: "x@example.com", subject: "s", messageId: `<${tag}@x>`, status: "sent", createdAt: "2000-01-01T00:00:00.000Z" });
        const found = await stagedOlderThan(store, before, ["complete"]);
        expect(found).toEqual(expect.arrayContaining([old.id, w.staged.id]));
        expect(found).not.toContain(oldHeld.id);
        expect(found).not.toContain(young.id);
        expect(await stagedOlderThan(store, before, ["held", "error"])).toContain(oldHeld.id);

        const files = await filesOfStaged(store, [old.id]);
        expect(files.sort()).toEqual([`/att/${tag}-own`, `/spool/${tag}-1`, `/spool/${tag}-shared`]);
        const removed = noneRemoved();
        await store.write((tx) => removeStaged(tx, [old.id, w.staged.id], false, removed));
        expect(removed).toMatchObject({ stagedMails: 2, attachments: 2, outboundMails: 1, interactions: 1, actions: 1, statusHistory: 2 });
        expect((await unreferenced(store, files)).sort()).toEqual([`/att/${tag}-own`, `/spool/${tag}-1`]);
        expect(await webRawOf(store, old.id)).toBeUndefined();

        const kept = await wrote(uid, issue.id, {}, "kept text");
        const again = noneRemoved();
        await store.write((tx) => removeStaged(tx, [kept.staged.id], true, again));
        expect(again).toMatchObject({ stagedMails: 1, interactions: 0, actions: 0 });
        expect(await interactionView(store, kept.interaction)).toMatchObject({ stagedMailId: null });

        const outRemoved = noneRemoved();
        await removeOutboundBefore(store, "1999-01-01T00:00:00.000Z", outRemoved);
        expect(outRemoved.outboundMails).toBe(0);
      });

      it("one person's rows: user, identifications, issues, interactions, mail and its redeliveries; removed, links to them cleared", async () => {
        const email = `${uniq("gone")}@example.com`;
        const user = await createUser(store, { email, createdAt: at(0) });
        const viaUser = (await createIdentification(store, { userId: user.id, dateAdded: at(0) })).id;
        const byAddress = (await createIdentification(store, { email, dateAdded: at(0) })).id;
        const issue = await newIssue({ userIdentificationId: viaUser });
        const other = await newIssue({ mergedIntoId: issue.id });
        const mail = await wrote(byAddress, issue.id, { fromAddress: email.toUpperCase() });
        const redelivery = await stage({ status: "duplicate", dedupKey: null, duplicateOf: mail.staged.id });
        const bySender = await stage({ envelopeSender: email });
        await store.run(`UPDATE staged_mails SET from_address = ? WHERE id = ?`, [email.toUpperCase(), mail.staged.id]);
        await insertOutbound(store, { kind: "admin-error", toAddress: "admin@example.com", subject: "s", messageId: `<${email}@x>`, status: "sent", createdAt: at(1), mail: JSON.stringify({ text: `from ${email}` }) });
        await updateIssue(store, issue.id, { state: "closed", updatedAt: at(2) }, "admin");

        const rows = await rowsOfPerson(store, email);
        expect(rows).toEqual({ users: [user.id], identifications: [viaUser, byAddress], issues: [issue.id], interactions: [mail.interaction], staged: [mail.staged.id, redelivery.id, bySender.id] });
        const removed = noneRemoved();
        await store.write(async (tx) => {
          await removeStaged(tx, rows.staged, false, removed);
          await removePerson(tx, email, rows, removed);
        });
        expect(removed).toMatchObject({ users: 1, userIdentifications: 2, issues: 1, stagedMails: 3, outboundMails: 1, issueHistory: 1 });
        expect(await rowsOfPerson(store, email)).toEqual({ users: [], identifications: [], issues: [], interactions: [], staged: [] });
        expect((await issueLinks(store, (await issuesPage(store, {}, { limit: 1000 })).rows.find((i) => i.id === other.id)!)).mergedInto).toBeNull();
      });
    });

    describe("doctor (doctor-queries)", () => {
      it("counts stuck and failed records, failed mail and what gave up, the kept secret", async () => {
        const [stuck, errors, out] = [await countStuckStaged(store, "1990-01-02T00:00:00.000Z"), await countStagedInError(store), await countFailedOutbound(store, 3)];
        await stage({ status: "new", updatedAt: "1990-01-01T00:00:00.000Z" });
        await stage({ status: "error" });
        const tag = uniq("doc");
        const gaveUp = await insertOutbound(store, { kind: "confirmation", toAddress: "d@example.com", subject: "s", messageId: `<${tag}-1@x>`, status: "failed", attempts: 3, createdAt: at(1) });
        const left = await insertOutbound(store, { kind: "confirmation", toAddress: "d@example.com", subject: "s", messageId: `<${tag}-2@x>`, status: "failed", attempts: 1, createdAt: at(1) });
        expect(await countStuckStaged(store, "1990-01-02T00:00:00.000Z")).toBe(stuck + 1);
        expect(await countStagedInError(store)).toBe(errors + 1);
        expect(await countFailedOutbound(store, 3)).toEqual({ failed: out.failed + 2, gaveUp: out.gaveUp + 1 });
        // The ids `outbox retry ID` must name (doctor's fix): numbers, in order, at most the limit.
        const ids = await failedPastLimitIds(store, 3, 10_000);
        expect(ids).toContain(gaveUp);
        expect(ids).not.toContain(left);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(await failedPastLimitIds(store, 3, 1)).toEqual(ids.slice(0, 1));
        await ensureSetting(store, "address_secret", () => "s3cret");
        expect(await countKeptAddressSecrets(store)).toBe(1);
      });
    });

    describe("the LMTP daemon (serve-queries)", () => {
      it("new records after an id, and records left in in_process / workflow", async () => {
        const a = await stage();
        const b = await stage();
        const old = await stage({ updatedAt: "2001-01-01T00:00:00.000Z" });
        await setStagedStatus(store, old.id, "in_process", "2001-01-01T00:00:00.000Z");
        expect(await listNewStagedIds(store, a.id - 1, 2)).toEqual([a.id, b.id]);
        expect(await listNewStagedIds(store, b.id, 100)).not.toContain(old.id);
        expect(await listStuckInProcessIds(store, "2001-01-02T00:00:00.000Z")).toContain(old.id);
        expect(await listStuckInProcessIds(store, "2000-01-01T00:00:00.000Z")).not.toContain(old.id);
      });
    });

    describe("the web console (web-queries)", () => {
      it("stagedPage: keyset pages, exact sender, substring filters (any case), Message-ID with or without brackets, dates", async () => {
        const tag = uniq("web");
        const rows = [];
        for (let i = 0; i < 5; i++)
          rows.push(await stage({ status: "error", fromAddress: `p${i}.${tag}@example.com`, fromName: `Person ${i}`, subject: `Subject ${i} ${tag}`, messageId: `<m${i}.${tag}@x>`, receivedAt: `2031-02-0${i + 1}T12:00:00.000Z` }));
        const ids = rows.map((r) => r.id).reverse();
        const first = await stagedPage(store, { subject: tag.toUpperCase() }, { limit: 2 });
        expect(first.rows.map((r) => r.id)).toEqual(ids.slice(0, 2));
        expect(first.before).toBe(ids[1]);
        const second = await stagedPage(store, { subject: tag }, { limit: 2, before: first.before! });
        expect(second.rows.map((r) => r.id)).toEqual(ids.slice(2, 4));
        const last = await stagedPage(store, { subject: tag }, { limit: 2, before: second.before! });
        expect([last.rows.map((r) => r.id), last.before]).toEqual([ids.slice(4), null]);

        expect((await stagedPage(store, { sender: `P3.${tag}@EXAMPLE.com` }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[3].id]);
        expect((await stagedPage(store, { sender: `person 2`, subject: tag }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[2].id]);
        expect((await stagedPage(store, { messageId: `m1.${tag}@x` }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[1].id]);
        expect((await stagedPage(store, { messageId: `<m1.${tag}@x>` }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[1].id]);
        expect((await stagedPage(store, { q: `M4.${tag}` }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[4].id]);
        expect((await stagedPage(store, { subject: tag, since: "2031-02-02", until: "2031-02-03" }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[2].id, rows[1].id]);
        expect((await stagedPage(store, { status: "error", since: "2031-02-04" }, { limit: 10 })).rows.map((r) => r.id)).toEqual([rows[4].id, rows[3].id]);
        expect(first.rows[0]).toEqual({ id: rows[4].id, receivedAt: rows[4].receivedAt, updatedAt: at(0), status: "error", fromAddress: `p4.${tag}@example.com`, fromName: "Person 4", subject: `Subject 4 ${tag}`, reason: null, error: null, duplicateOf: null, rawSize: 5 });

        expect(await resubmittableIds(store, { subject: tag }, 3)).toEqual(rows.slice(0, 3).map((r) => r.id));
        const raw = await webRawOf(store, rows[0].id);
        expect(raw!.raw!.equals(Buffer.from("hello"))).toBe(true);
        expect(raw!.messageId).toBe(`<m0.${tag}@x>`);
        expect(await htmlBodyOf(store, rows[0].id)).toBeNull();
        expect(await htmlBodyOf(store, 999_999)).toBeUndefined();
      });

      it("stagedCounts and statusChangesSince keep counts up to date from the history", async () => {
        const { counts, historyId } = await stagedCounts(store);
        expect(Object.values(counts).every((v) => typeof v === "number")).toBe(true);
        const s = await stage({ status: "new" });
        await setStagedStatus(store, s.id, "complete", at(1), {}, null, ["in_process"]);
        const changes = await statusChangesSince(store, historyId, 100);
        expect(changes.map((c) => [c.status, c.previous])).toEqual([
          ["new", null],
          ["in_process", "new"],
          ["complete", "in_process"],
        ]);
        const after = await stagedCounts(store);
        expect(after.counts.complete).toBe((counts.complete ?? 0) + 1);
        expect(after.historyId).toBe(changes[2].id);
      });

      it("issuesPage, issueLinks, conversation (merged tickets' actions too), outbound of an issue, views", async () => {
        const tag = uniq("con");
        const acct = await createAccount(store, `A ${tag}`, "gold");
        const user = await createUser(store, { email: `${tag}@example.com`, accountId: acct.id, createdAt: at(0) });
        const ident = (await createIdentification(store, { userId: user.id, firstNames: "Cy", dateAdded: at(0) })).id;
        const main = await newIssue({ userIdentificationId: ident, queue: tag, newInfo: true });
        const merged = await newIssue({ userIdentificationId: ident, queue: tag, mergedIntoId: main.id });
        const deeper = await newIssue({ userIdentificationId: ident, mergedIntoId: merged.id });
        const child = await newIssue({ userIdentificationId: ident, parentId: main.id, queue: tag });

        const p1 = await issuesPage(store, { queue: tag }, { limit: 2 });
        expect(p1.rows.map((i) => i.id)).toEqual([child.id, merged.id]);
        expect(p1.before).toBe(merged.id);
        const p2 = await issuesPage(store, { queue: tag }, { limit: 2, before: p1.before! });
        expect([p2.rows.map((i) => i.id), p2.before]).toEqual([[main.id], null]);
        expect(p2.rows[0]).toMatchObject({ id: main.id, newInfo: true, customerEmail: `${tag}@example.com`, queue: tag });
        expect((await issuesPage(store, { customer: ident }, { limit: 10 })).rows).toHaveLength(4);

        const links = await issueLinks(store, main);
        expect(links.children.map((i) => i.id)).toEqual([child.id]);
        expect(links.mergedFrom).toEqual([{ id: merged.id, reference: merged.reference, kind: "ticket", state: "todo", subject: "subject" }]);
        expect(links.parent).toBeNull();
        expect((await issueLinks(store, merged)).mergedInto!.id).toBe(main.id);

        const a = await wrote(ident, main.id, { subject: "first", messageId: `<a.${tag}@x>`, fromAddress: user.email }, "one", at(10));
        const b = await wrote(ident, deeper.id, { subject: "second" }, "two", at(11));
        await wrote(ident, child.id, {}, "not merged", at(12));
        const conv = await conversation(store, main.id);
        expect(conv.map((c) => [c.actionId, c.issueId, c.details])).toEqual([
          [a.action, main.id, "one"],
          [b.action, deeper.id, "two"],
        ]);
        expect(conv[0]).toMatchObject({ issueReference: main.reference, subject: "first", messageId: `<a.${tag}@x>`, senderEmail: user.email, senderFirstNames: "Cy", stagedMailId: a.staged.id, userIdentificationId: ident });

        const o = await insertOutbound(store, { kind: "confirmation", issueId: main.id, toAddress: user.email, subject: "s", messageId: `<o.${tag}@x>`, status: "failed", createdAt: at(20) });
        expect((await outboundOfIssue(store, main.id)).map((x) => [x.id, x.status])).toEqual([[o, "failed"]]);
        expect(await outboundStatus(store, o)).toBe("failed");
        const page = await outboundPage(store, { status: "failed" }, { limit: 1 });
        expect(page.rows.map((x) => x.id)).toEqual([o]);
        expect(page.failed).toBeGreaterThanOrEqual(1);
        expect((await outboundPage(store, {}, { limit: 5, before: o })).rows.every((x) => x.id < o)).toBe(true);

        expect(await identificationView(store, ident)).toEqual({ id: ident, email: null, firstNames: "Cy", lastName: null, dateAdded: at(0), userId: user.id, userEmail: user.email, accountName: `A ${tag}`, supportLevel: "gold" });
        expect(await interactionView(store, a.interaction)).toEqual({ id: a.interaction, userIdentificationId: ident, stagedMailId: a.staged.id, interactionDate: at(10), originator: "customer", type: "email" });
      });
    });
  });
}
