// domain.md §2: ids in the support address (ACS service-UID-ISSUE@, plus service+UID-ISSUE@), and
// the signed form service+UID-ISSUE-SIG@ when a secret is configured.
import { describe, expect, it } from "vitest";
import { baseAddress, idAddress, parseAddressIds, signIds } from "../../src/rules/address-ids.js";

const support = ["service@example.test", "billing@example.test"];

describe("parseAddressIds without a secret", () => {
  it.each([
    ["service-12-345@example.test", { base: "service@example.test", uid: 12, issueId: 345, signature: null }],
    ["service+12-345@example.test", { base: "service@example.test", uid: 12, issueId: 345, signature: null }],
    ["<Service+12-345@Example.TEST>", { base: "service@example.test", uid: 12, issueId: 345, signature: null }],
    ["  billing-1-2@example.test ", { base: "billing@example.test", uid: 1, issueId: 2, signature: null }],
  ])("%s → verified ids", (addr, ids) => {
    expect(parseAddressIds(addr, support, null)).toEqual({ ids, verified: true });
  });

  it.each([
    ["the plain support address", "service@example.test"],
    ["no address", null],
    ["empty", ""],
    ["no @", "service+1-2"],
    ["one id only", "service+12@example.test"],
    ["letters for ids", "service+a-b@example.test"],
    ["not one of our addresses", "sales+1-2@example.test"],
    ["our local part at another domain", "service+1-2@evil.example"],
    ["ids too long", "service+1234567890123-1@example.test"],
  ])("%s → no ids", (_l, addr) => {
    expect(parseAddressIds(addr, support, null)).toEqual({ ids: null, verified: false, reason: null });
  });

  it("with no support addresses configured any local part counts", () => {
    expect(parseAddressIds("help+3-4@anything.example", [], null)).toMatchObject({ ids: { base: "help@anything.example", uid: 3, issueId: 4 }, verified: true });
  });

  it("a support address with a dash in its local part", () => {
    expect(parseAddressIds("customer-care+3-4@example.test", ["customer-care@example.test"], null)).toMatchObject({ ids: { base: "customer-care@example.test", uid: 3, issueId: 4 } });
    expect(parseAddressIds("customer-care-3-4@example.test", ["customer-care@example.test"], null)).toMatchObject({ ids: { base: "customer-care@example.test", uid: 3, issueId: 4 } });
  });
});

describe("signed ids (addressSecret set)", () => {
  const secret = "s3cret";
  const good = idAddress("service@example.test", 12, 345, secret);

  it("idAddress writes the plus form with a 10-hex-digit HMAC", () => {
    expect(good).toBe(`service+12-345-${signIds(secret, 12, 345)}@example.test`);
    expect(signIds(secret, 12, 345)).toMatch(/^[0-9a-f]{10}$/);
    expect(idAddress("service@example.test", 12, 345, null)).toBe("service+12-345@example.test");
  });

  it("a correct signature verifies (in either case)", () => {
    expect(parseAddressIds(good, support, secret)).toMatchObject({ verified: true, ids: { uid: 12, issueId: 345 } });
    expect(parseAddressIds(good.toUpperCase(), support, secret)).toMatchObject({ verified: true });
  });

  it.each([
    ["unsigned", "service+12-345@example.test", "address ids carry no signature"],
    ["another issue id, same signature", good.replace("-345-", "-346-"), "address ids signature does not verify"],
    ["another user id, same signature", good.replace("+12-", "+13-"), "address ids signature does not verify"],
    ["a signature cut short", good.replace(/-([0-9a-f]{10})@/, (_m, s: string) => `-${s.slice(0, 8)}@`), "address ids signature does not verify"],
    ["a signature from another secret", idAddress("service@example.test", 12, 345, "other"), "address ids signature does not verify"],
  ])("tampered: %s", (_l, addr, reason) => {
    expect(parseAddressIds(addr, support, secret)).toMatchObject({ verified: false, reason, ids: { base: "service@example.test" } });
  });

  it("without a secret a signed address still reads its ids", () => {
    expect(parseAddressIds(good, support, null)).toMatchObject({ verified: true, ids: { uid: 12, issueId: 345, signature: signIds(secret, 12, 345) } });
  });
});

describe("baseAddress (for routing)", () => {
  it.each([
    ["service+1-2@example.test", "service@example.test"],
    ["billing-1-2@example.test", "billing@example.test"],
    ["<Billing@Example.test>", "billing@example.test"],
    ["sales+1-2@example.test", "sales+1-2@example.test"],
  ])("%s → %s", (addr, base) => {
    expect(baseAddress(addr, support)).toBe(base);
  });
});
