// Issue 10 (domain.md §9): the pure trust decisions, as tables.
import { describe, expect, it } from "vitest";
import { relativeTo, parseConfig, defaultConfig } from "../../src/config.js";
import { modesOf } from "../../src/fsafe.js";
import { headerText } from "../../src/outbound/header-safe.js";
import { confirmationSubject } from "../../src/outbound/confirmation.js";
import { addressIdsTrust, type AddressTrustInput } from "../../src/rules/address-trust.js";
import { signatureOf, signIds } from "../../src/rules/address-ids.js";
import { authVerdict, parseAuthenticationResults } from "../../src/rules/authentication-results.js";
import { mayConfirm, type ConfirmInput } from "../../src/rules/confirm.js";
import { parseHeaderBlock } from "../../src/rules/headers.js";
import { addressDomain, confirmationRecipient, normaliseAddress, singleMailbox } from "../../src/rules/mailbox.js";
import { ownMail } from "../../src/rules/own-mail.js";
import { spamFlag } from "../../src/rules/spam-flag.js";
import { safe } from "../../src/terminal-safe.js";

describe("singleMailbox / confirmationRecipient (point 3)", () => {
  it.each<[string | null, string | false]>([
    ["dora@customer.example", "dora@customer.example"],
    ["Dora@Customer.Example", "dora@customer.example"],
    ["dora+tag@customer.example", "dora+tag@customer.example"],
    [null, false],
    ["dora", false],
    ["v1@t.example,v2@t.example,x@evil.example", false], // an unquoted quoted local part
    ['"v1@t.example"@evil.example', false],
    ["a b@x.example", false],
    ["a;b@x.example", false],
    ["a\u0000b@x.example", false],
    ["<a@x.example>", false],
    [".a@x.example", false],
    ["a..b@x.example", false],
    ["a@", false],
    [`${"a".repeat(250)}@x.example`, false],
    // A mail client would show these reordered or not at all: a `To:` of ours never carries them.
    ["\u202egpj.exe@x.example", false],
    ["a\u0085b@x.example", false],
    ["a\u2066b@x.example", false],
    ["jörg@müller.example", "jörg@müller.example"],
  ])("%j → %j", (addr, want) => {
    const r = singleMailbox(addr);
    expect(r.ok ? r.address : false).toBe(want);
  });

  it.each<[string[], string | null, string | false]>([
    [["Dora <dora@customer.example>"], "dora@customer.example", "dora@customer.example"],
    [["dora@customer.example, eve@customer.example"], "dora@customer.example", false],
    [['"v1@t.example,v2@t.example,x"@evil.example'], "v1@t.example,v2@t.example,x@evil.example", false],
    [[], "dora@customer.example", "dora@customer.example"], // no From: Reply-To/Sender picked it
  ])("From %j (picked %j) → %j", (from, picked, want) => {
    const r = confirmationRecipient(from, picked);
    expect(r.ok ? r.address : false).toBe(want);
    if (!r.ok) expect(r.reason).not.toBe("");
  });

  it.each([
    ["victim@target.example", "victim@target.example", "target.example"],
    ["Victim+1@Target.Example", "victim@target.example", "target.example"],
    ["victim@target.example.", "victim@target.example", "target.example"],
    ["victim+a+b@target.example..", "victim@target.example", "target.example"],
  ])("normalises %s → %s (%s)", (a, key, domain) => {
    expect(normaliseAddress(a)).toBe(key);
    expect(addressDomain(a)).toBe(domain);
  });
});

describe("Authentication-Results (point 2, RFC 8601)", () => {
  it("parses the authserv-id and method results, skipping comments and quoted reasons", () => {
    expect(parseAuthenticationResults('mx.example.test 1; spf=fail (sender not allowed; really) smtp.mailfrom=x@y; dkim=none reason="no; sig"; dmarc=fail header.from=y')).toEqual({
      authservId: "mx.example.test",
      results: [
        { method: "spf", result: "fail", props: { "smtp.mailfrom": "x@y" } },
        { method: "dkim", result: "none", props: {} },
        { method: "dmarc", result: "fail", props: { "header.from": "y" } },
      ],
    });
  });

  const T = "mx.example.test";
  it.each<[string, string[], string | null, boolean | null]>([
    ["no trusted id configured", [`${T}; dmarc=fail`], null, null],
    ["no header from our id", ["other.example; dmarc=fail"], T, null],
    ["DMARC fail", [`${T}; spf=pass; dkim=pass; dmarc=fail`], T, false],
    ["DMARC pass", [`${T}; spf=fail; dkim=none; dmarc=pass`], T, true],
    ["no DMARC, SPF fail and no DKIM", [`${T}; spf=fail smtp.mailfrom=a@b`], T, false],
    ["no DMARC, SPF softfail and DKIM fail", [`${T}; spf=softfail; dkim=fail`], T, false],
    ["no DMARC, SPF fail but DKIM pass", [`${T}; spf=fail; dkim=pass`], T, true],
    ["no DMARC, SPF none", [`${T}; spf=none; dkim=none`], T, true],
    ["DMARC none falls back to SPF/DKIM", [`${T}; dmarc=none; spf=fail`], T, false],
    ["case of the id does not matter", [`MX.Example.TEST; dmarc=fail`], T, false],
    ["a forged header below ours is not read (the topmost of ours counts)", [`${T}; dmarc=fail`, `${T}; dmarc=pass`], T, false],
    ["a forged pass from another id is ignored (RFC 8601 §5)", ["evil.example; dmarc=pass", `${T}; dmarc=fail`], T, false],
  ])("%s", (_n, headers, trusted, want) => {
    const v = authVerdict(headers, trusted);
    expect(v === null ? null : v.authenticated).toBe(want);
  });

  // A writer from Reply-To/Sender (From names no mailbox): only a pass for its own domain counts.
  it.each<[string, string, string, boolean]>([
    ["the attacker's own SPF and DKIM pass", `${T}; spf=pass smtp.mailfrom=m@attacker.example; dkim=pass header.d=attacker.example; dmarc=permerror`, "alice@customer.example", false],
    ["DMARC pass (for some other From domain)", `${T}; dmarc=pass`, "alice@customer.example", false],
    ["nothing at all", `${T}; spf=none`, "alice@customer.example", false],
    ["SPF pass for the writer's domain", `${T}; spf=pass smtp.mailfrom=bounce@customer.example`, "alice@customer.example", true],
    ["DKIM pass for a subdomain of it", `${T}; dkim=pass header.d=mail.customer.example`, "alice@customer.example", true],
    ["DKIM pass for its parent", `${T}; dkim=pass header.i=@customer.example`, "alice@eu.customer.example", true],
    ["a look-alike domain", `${T}; dkim=pass header.d=evilcustomer.example`, "alice@customer.example", false],
    ["a bare top-level domain", `${T}; dkim=pass header.d=example`, "alice@customer.example", false],
  ])("writer not in From, %s → %s", (_n, header, address, want) => {
    expect(authVerdict([header], T, { address, inFrom: false })!.authenticated).toBe(want);
    // The same results for a writer From names are judged as before (DMARC, then SPF/DKIM failures).
    expect(authVerdict([header], T, { address, inFrom: true })!.authenticated).toBe(authVerdict([header], T)!.authenticated);
  });

  it("is linear on a long hostile header", () => {
    const value = `${T}; ${"(".repeat(200_000)}${'"'.repeat(100_000)}`;
    const t = performance.now();
    authVerdict([value], T);
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe("spamFlag (point 3)", () => {
  const h = (block: string) => parseHeaderBlock(block);
  it.each<[string, string[], boolean]>([
    ["X-Spam-Flag: YES", ["X-Spam-Flag", "X-Spam-Status"], true],
    ["X-Spam-Status: Yes, score=9.1 required=5.0", ["X-Spam-Flag", "X-Spam-Status"], true],
    ["X-Spam-Status: No, score=0.1", ["X-Spam-Flag", "X-Spam-Status"], false],
    ["X-Spam-Flag: NO", ["X-Spam-Flag", "X-Spam-Status"], false],
    ["X-Spam: yes", ["X-Spam-Flag", "X-Spam-Status"], false],
    ["X-Spam: yes", ["X-Spam"], true],
    ["Subject: yes", ["X-Spam-Flag"], false],
  ])("%s (headers %j) → %s", (block, names, want) => {
    expect(spamFlag(h(block), names) !== null).toBe(want);
  });
});

describe("ownMail (point 4)", () => {
  const base = { messageId: "<a@customer.example>", fromAddress: "dora@customer.example", ownAddresses: ["service@example.test", "support@example.test"], loopAddress: "support@example.test", host: "helpdesk.example.test" };
  const guid = "0f0e0d0c-0b0a-4909-8807-060504030201";
  it.each<[string, string, Partial<typeof base>, RegExp | null]>([
    ["a customer's mail", "", {}, null],
    ["X-Loop with our address", "X-Loop: support@example.test", {}, /X-Loop/],
    ["X-Loop with another address", "X-Loop: list@lists.example", {}, null],
    ["our Message-ID form on our host", "", { messageId: `<${guid}.${guid}@helpdesk.example.test>` }, /Message-ID/],
    ["an admin notice's Message-ID", "", { messageId: `<${guid}@HELPDESK.example.test>` }, /Message-ID/],
    ["our host, not our form", "", { messageId: "<abc@helpdesk.example.test>" }, null],
    ["our form, another host", "", { messageId: `<${guid}@other.example>` }, null],
    ["From a support address", "", { fromAddress: "Service@Example.test" }, /From service@example\.test/],
    ["From a support address with ids", "", { fromAddress: "service+7-9@example.test" }, /From/],
  ])("%s", (_n, block, patch, want) => {
    const r = ownMail({ ...base, ...patch, headers: parseHeaderBlock(block) });
    if (want) expect(r).toMatch(want);
    else expect(r).toBeNull();
  });
});

describe("addressIdsTrust (point 1)", () => {
  const base: AddressTrustInput = { signature: "none", fromEnvelope: true, authenticated: true, senderIsParticipant: true };
  it.each<[string, Partial<AddressTrustInput>, boolean]>([
    ["signed, from anyone, even from a header", { signature: "valid", fromEnvelope: false, senderIsParticipant: false }, true],
    ["signed, unauthenticated sender (a forward of a capability)", { signature: "valid", authenticated: false }, true],
    ["wrongly signed", { signature: "invalid" }, false],
    ["unsigned from the customer, envelope recipient", {}, true],
    ["unsigned from a stranger", { senderIsParticipant: false }, false],
    ["unsigned from a header", { fromEnvelope: false }, false],
    ["unsigned, the sender failed DMARC", { authenticated: false }, false],
  ])("%s → %s", (_n, patch, count) => {
    expect(addressIdsTrust({ ...base, ...patch }).count).toBe(count);
  });

  it("signatureOf", () => {
    const ids = (signature: string | null) => ({ base: "service@x", uid: 3, issueId: 4, signature });
    expect(signatureOf(ids(null), "k")).toBe("none");
    expect(signatureOf(ids(signIds("k", 3, 4)), "k")).toBe("valid");
    expect(signatureOf(ids(signIds("k", 3, 4).toUpperCase()), "k")).toBe("valid");
    expect(signatureOf(ids(signIds("other", 3, 4)), "k")).toBe("invalid");
    expect(signatureOf(ids(signIds("k", 3, 5)), "k")).toBe("invalid");
  });
});

describe("mayConfirm: per-domain, global and unauthenticated (point 2, 3)", () => {
  const base: ConfirmInput = { sendResponse: true, autoGenerated: false, to: "dora@customer.example", ownAddresses: [], sentInWindow: 0, limitPerDay: 5, sentToDomainInHour: 0, limitPerDomainPerHour: 2, sentInHour: 0, limitPerHour: 3 };
  it.each<[string, Partial<ConfirmInput>, boolean, RegExp]>([
    ["under every limit", {}, true, /route sends/],
    ["domain at its limit", { sentToDomainInHour: 2 }, false, /^rate limit: 2 confirmations to customer\.example in the last hour \(limit 2\)$/],
    ["global at its limit", { sentInHour: 3 }, false, /^rate limit: 3 confirmations in the last hour \(limit 3\)$/],
    ["unauthenticated sender", { unauthenticated: true }, false, /unauthenticated/],
  ])("%s", (_n, patch, send, reason) => {
    const d = mayConfirm({ ...base, ...patch });
    expect(d.send).toBe(send);
    expect(d.reason).toMatch(reason);
  });
});

describe("outbound header text (point 3)", () => {
  it.each([
    ["plain", "plain"],
    ["a\u0000b\rc\nd\u001b[31me", "a b c d [31me"],
    ["rtl \u202eexe.txt", "rtl exe.txt"],
    ["x".repeat(500), "x".repeat(200)],
  ])("%j → %j", (input, want) => expect(headerText(input)).toBe(want));

  it("the confirmation subject is at most 200 characters with no controls", () => {
    const s = confirmationSubject("CS-000001", `Hello\u0000\u0007${"y".repeat(400)}`);
    expect(s.length).toBeLessThanOrEqual(200);
    expect(s).toMatch(/^\[CS-000001\] Re: Hello y+$/);
  });
});

describe("terminal-safe output (point 10)", () => {
  it.each([
    ["plain text", "plain text"],
    ["\u001b]8;;http://evil\u0007link", "\\x1b]8;;http://evil\\x07link"],
    ["\u001b[2J", "\\x1b[2J"],
    ["a\u009bb", "a\\x9bb"],
    ["abc\u202edcba", "abc\\u202edcba"],
    ["\u2066x\u2069", "\\u2066x\\u2069"],
    [null, ""],
  ])("%j → %j", (input, want) => expect(safe(input)).toBe(want));
});

describe("file modes and config paths (points 5, 9)", () => {
  it.each([
    ["0600", 0o600, 0o700],
    ["0640", 0o640, 0o750],
    ["660", 0o660, 0o770],
  ])("fileMode %s → files %o, folders %o", (mode, file, dir) => expect(modesOf(mode)).toEqual({ file, dir }));

  it.each(["0644", "0666", "0400", "rw", "1777"])("fileMode %s is refused", (fileMode) => {
    expect(() => parseConfig({ fileMode })).toThrow(/fileMode/);
  });

  it("relative paths resolve against the config file's folder; absolute ones and a bare command stay", () => {
    const c = relativeTo("/etc/ingest-mail", parseConfig({ attachmentsDir: "./var/att", spoolDir: "/var/spool/x", logFile: "log/ingest.log", outbound: { transport: "file", dir: "outbox", path: "sendmail", from: "a@b" } }));
    expect([c.attachmentsDir, c.spoolDir, c.logFile, c.outbound.dir, c.outbound.path]).toEqual(["/etc/ingest-mail/var/att", "/var/spool/x", "/etc/ingest-mail/log/ingest.log", "/etc/ingest-mail/outbox", "sendmail"]);
    expect(relativeTo("/x", defaultConfig).outbound.path).toBe("/usr/sbin/sendmail");
  });
});
