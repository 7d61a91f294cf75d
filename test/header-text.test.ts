// Pure header decoding: the cases the corpus showed (zammad mail016/017/019/046/053/059/093).
import { describe, expect, it } from "vitest";
import { charsetHints, decodeBytes, decodeHeaderValue, encodingOf, parseAddresses, pickWriter, windows1252 } from "../src/pipeline/header-text.js";
import { iconvLite } from "../src/pipeline/mailparser-own.js";

const bin = (hex: string) => Buffer.from(hex.replace(/\s/g, ""), "hex").toString("latin1");

describe("encodingOf", () => {
  it.each([
    ["UTF-8", "utf-8"],
    ["gb2312", "gb18030"],
    ["GBK", "gb18030"],
    ["iso-8859-1", "windows-1252"],
    ["ks_c_5601-1987", "euc-kr"],
    ["ISO-2022-JP", "iso-2022-jp"],
    ["utf-8*en", "utf-8"],
    ["iso-gb2312", "gb18030"],
    ["utf-7", null],
    ["x-no-such-charset", null],
    ["x-user-defined", null], // a browser's: 8-bit bytes as private-use characters
    ["", null],
  ])("%s → %s", (label, want) => expect(encodingOf(label)).toBe(want));
});

describe("charsetHints", () => {
  it("puts multibyte charsets first, maps 7-bit ones to their 8-bit forms, drops UTF-8", () => {
    expect(charsetHints(["iso-8859-1", "utf-8", "gb2312", "iso-2022-jp", "koi8-r"])).toEqual(["gb18030", "shift_jis", "euc-jp", "koi8-r"]);
  });
});

describe("windows1252", () => {
  it("reads every byte as the WHATWG Encoding Standard's index does (iconv-lite's table, and 0x81, 0x8D, 0x8F, 0x90, 0x9D as their own code points)", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const iconv = iconvLite.decode(all, "windows-1252");
    const ours = windows1252(all);
    expect(ours).toHaveLength(256);
    for (let i = 0; i < 256; i++) {
      const want = [0x81, 0x8d, 0x8f, 0x90, 0x9d].includes(i) ? String.fromCharCode(i) : iconv[i];
      expect(ours[i], `byte ${i.toString(16)}`).toBe(want);
    }
    expect(ours.slice(0x80, 0x80 + 3)).toBe("€\u0081‚");
  });
});

describe("decodeBytes", () => {
  it.each([
    ["ASCII stays as it is", "48656c6c6f", null, [], "Hello"],
    ["declared charset wins", "57f66c62756e67", "iso-8859-1", [], "Wölbung"],
    ["undeclared UTF-8", "4772c3bcc39f65", null, [], "Grüße"],
    ["undeclared, not UTF-8, no hint: Windows-1252", "57f66c62756e67", null, [], "Wölbung"],
    ["undeclared GB2312 with a gb18030 hint", "cee4c0bcb3c9", null, ["gb18030"], "武兰成"],
    ["declared UTF-8 that is not: falls back", "57f66c62756e67", "utf-8", [], "Wölbung"],
    ["ISO-2022-JP label on Shift_JIS bytes", "8363815b838b", "iso-2022-jp", [], "ツール"],
    ["ISO-2022-JP proper", "1b24422546253925481b2842", "iso-2022-jp", [], "テスト"],
    // Node 20's TextDecoder("windows-1252") reads Latin-1: 0x93 came out as the control U+0093.
    ["Windows-1252's quotes, dash and euro sign", "93486994209680", "windows-1252", [], "“Hi” –€"],
    ["ISO-8859-1 label on Windows-1252 bytes (as every mail reader reads it)", "646f6e9274", "iso-8859-1", [], "don’t"],
    ["undeclared, not UTF-8: Windows-1252's quotes", "93486994", null, [], "“Hi”"],
  ])("%s", (_what, hex, declared, hints, want) => {
    expect(decodeBytes(Buffer.from(hex, "hex"), declared, hints)).toBe(want);
  });
});

describe("decodeHeaderValue", () => {
  it.each([
    ["plain", "Hello world", [], "Hello world"],
    ["folded", "Hello\r\n world", [], "Hello world"],
    ["Q word", "=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", [], "Grüße aus Köln"],
    ["B word", "=?UTF-8?B?w6TDtsO8?=", [], "äöü"],
    ["space between words dropped (RFC 2047 §6.2)", "=?UTF-8?Q?a?= \r\n =?UTF-8?Q?b?=", [], "ab"],
    ["text around words kept", "Re: =?UTF-8?Q?caf=C3=A9?= ok", [], "Re: café ok"],
    // "€" is E2 82 AC: split over two words, joined byte-wise before decoding.
    ["multibyte character split across words", "=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", [], "€"],
    ["raw 8-bit GB2312 with hint", bin("d7aab7a2a3ba"), ["gb18030"], "转发："],
    ["raw 8-bit UTF-8 (RFC 6532)", Buffer.from("Grüße").toString("latin1"), [], "Grüße"],
    ["Shift_JIS in an ISO-2022-JP word", "=?ISO-2022-JP?B?g2OBW4OLIEVYQU1QTEU=?=", [], "ツール EXAMPLE"],
    ["unknown charset is read as bytes", "=?x-unknown?Q?abc?=", [], "abc"],
  ])("%s", (_what, raw, hints, want) => expect(decodeHeaderValue(raw, hints)).toBe(want));
});

describe("parseAddresses", () => {
  it.each([
    ['"Smith, John" <john@example.com>', [{ address: "john@example.com", name: "Smith, John" }]],
    ["=?utf-8?B?6YO955C5?= <ghgbwum@example.cn>", [{ address: "ghgbwum@example.cn", name: "都琹" }]],
    ['"Yangzhou ABC Lighting Equipment " <>, "LTD" <ly@example.com>', [{ address: "", name: "Yangzhou ABC Lighting Equipment" }, { address: "ly@example.com", name: "LTD" }]],
    ["team: a@example.com, b@example.com;", [{ address: "a@example.com", name: "" }, { address: "b@example.com", name: "" }]],
    [`"${bin("cee4c0bcb3c9")}" <x@example.com>`, [{ address: "x@example.com", name: "武兰成" }]],
  ])("%s", (raw, want) => expect(parseAddresses(raw, ["gb18030"])).toEqual(want));
});

describe("pickWriter", () => {
  const none = { from: [], replyTo: [], sender: [] };
  it.each([
    ["From", { ...none, from: ["Ann <ann@example.com>"] }, { address: "ann@example.com", name: "Ann" }],
    ["a second From when the first is broken", { ...none, from: ["[??????]", "Bo <bo@example.com>"] }, { address: "bo@example.com", name: "Bo" }],
    ["Reply-To when From is empty", { ...none, from: ['"=?GB2312?B?ztI=?=" <>'], replyTo: ["<vip@example.com>"] }, { address: "vip@example.com", name: "" }],
    ["Reply-To when From is missing", { ...none, replyTo: ["<vip@example.com>"] }, { address: "vip@example.com", name: "" }],
    ["Sender after Reply-To", { ...none, sender: ["S <s@example.com>"] }, { address: "s@example.com", name: "S" }],
    ["a mailbox without domain, last", { ...none, from: ["MAILER-DAEMON (Mail Delivery System)"] }, { address: "MAILER-DAEMON", name: "Mail Delivery System" }],
    ["nobody", none, null],
  ])("%s", (_what, headers, want) => expect(pickWriter(headers)).toEqual(want));
});
