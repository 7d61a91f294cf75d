// The web console's small pure parts, as tables: download names (RFC 6266), the quoted-reply split,
// the --listen address, loopback, and the password hash.
import { describe, expect, it } from "vitest";
import { parseListen } from "../../src/cli/commands/web.js";
import { contentDisposition } from "../../src/web/routes/downloads.js";
import { hashPassword, isPasswordHash, verifyPassword } from "../../src/web/password.js";
import { splitQuoted } from "../../src/web/quote.js";
import { isLoopback } from "../../src/web/server.js";

describe("Content-Disposition of a download (RFC 6266 §4.3, RFC 8187)", () => {
  it.each([
    ["invoice 1042.pdf", `attachment; filename="invoice 1042.pdf"; filename*=UTF-8''invoice%201042.pdf`],
    ["../../../etc/passwd", `attachment; filename="passwd"; filename*=UTF-8''passwd`],
    ["C:\\Windows\\evil.bat", `attachment; filename="evil.bat"; filename*=UTF-8''evil.bat`],
    [`"><img src=x onerror=alert(14)>.html`, `attachment; filename="__img src_x onerror_alert(14)_.html"; filename*=UTF-8''%3E%3Cimg%20src%3Dx%20onerror%3Dalert%2814%29%3E.html`],
    ["report\u202efdp.exe\r\nX-Evil: 1", `attachment; filename="reportfdp.exeX-Evil_ 1"; filename*=UTF-8''reportfdp.exeX-Evil%3A%201`],
    ["Zażółć gęślą.txt", `attachment; filename="Za____ g__l_.txt"; filename*=UTF-8''Za%C5%BC%C3%B3%C5%82%C4%87%20g%C4%99%C5%9Bl%C4%85.txt`],
    [".htaccess", `attachment; filename="htaccess"; filename*=UTF-8''htaccess`],
    [null, `attachment; filename="attachment-7"; filename*=UTF-8''attachment-7`],
    ["", `attachment; filename="attachment-7"; filename*=UTF-8''attachment-7`],
  ])("%j → %s", (name, header) => {
    expect(contentDisposition(name, "attachment-7")).toBe(header);
  });
});

describe("the new part of a reply first", () => {
  it.each([
    ["Thanks!\n\nOn Mon, 1 Jan 2024, Support wrote:\n> Hello", "Thanks!", "On Mon, 1 Jan 2024, Support wrote:\n> Hello"],
    ["Yes please.\n> earlier\n> more", "Yes please.", "> earlier\n> more"],
    ["Hi\n-----Original Message-----\nFrom: x", "Hi", "-----Original Message-----\nFrom: x"],
    ["Danke\nAm 01.01.2024 schrieb Support:\n> Hallo", "Danke", "Am 01.01.2024 schrieb Support:\n> Hallo"],
    ["No quote at all.\nSecond line.", "No quote at all.\nSecond line.", null],
    ["> only a quote\n> nothing new", "> only a quote\n> nothing new", null],
  ])("%j", (text, fresh, quoted) => {
    expect(splitQuoted(text)).toEqual({ fresh, quoted });
  });

  it("stays linear on a hostile long line", () => {
    const line = `On ${"a".repeat(200_000)} wrot`;
    const t = performance.now();
    expect(splitQuoted(`${line}\n`.repeat(20)).quoted).toBeNull();
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe("--listen", () => {
  it.each([
    ["127.0.0.1:8025", { host: "127.0.0.1", port: 8025 }],
    ["8025", { host: "127.0.0.1", port: 8025 }],
    ["0.0.0.0:80", { host: "0.0.0.0", port: 80 }],
    ["[::1]:8025", { host: "[::1]", port: 8025 }],
    ["localhost:0", { host: "localhost", port: 0 }],
  ])("%s", (arg, want) => expect(parseListen(arg)).toEqual(want));

  it.each(["", "host:", "127.0.0.1:99999", "a b:1", "http://x:1"])("refuses %j", (arg) => expect(() => parseListen(arg)).toThrow(/--listen must be host:port/));

  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["[::1]", true],
    ["::1", true],
    ["0.0.0.0", false],
    ["192.168.1.5", false],
    ["[::]", false],
    ["example.test", false],
  ])("%s is loopback: %s", (host, want) => expect(isLoopback(host)).toBe(want));
});

describe("the console password", () => {
  const hash = hashPassword("correct horse battery", Buffer.alloc(16, 7));
  it("is kept as a scrypt hash that only the same password verifies", () => {
    expect(isPasswordHash(hash)).toBe(true);
    expect(hash).not.toContain("correct");
    expect(verifyPassword("correct horse battery", hash)).toBe(true);
    expect(verifyPassword("correct horse batterY", hash)).toBe(false);
    expect(verifyPassword("", hash)).toBe(false);
  });
  it.each(["", "plain", "scrypt$1$1$1$$", "bcrypt$10$x$y$z$w", "scrypt$99999999$8$1$AAAA$AAAA"])("a malformed hash %j verifies nothing", (bad) => {
    expect(verifyPassword("x", bad)).toBe(false);
  });
});
