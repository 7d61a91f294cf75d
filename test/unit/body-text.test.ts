// Text parts with no charset, or one their bytes are not in (src/pipeline/body-text.ts), and the
// guess of an East Asian charset (src/pipeline/charset-guess.ts). Pure: bytes in, text out.
import { describe, expect, it } from "vitest";
import { bodyText } from "../../src/pipeline/body-text.js";
import { charsetGuesser } from "../../src/pipeline/charset-guess.js";
import { iconvLite } from "../../src/pipeline/mailparser-own.js";

/** Text in a charset, by iconv-lite (the copy libmime uses). */
const enc = (text: string, charset: string) => iconvLite.encode(text, charset);

const german = "Hallo, die Rechnung für März ist falsch. Grüße, Jürgen";
const chinese = "您好，我们公司的机房环境不符合法规要求，请尽快回复我们的报价单，谢谢。";
const japanese = "お世話になっております。先月の請求書の金額に誤りがあるようですので、ご確認をお願いいたします。";
const korean = "안녕하세요, 지난달 청구서 금액이 잘못된 것 같습니다. 확인 부탁드립니다.";

describe("bodyText", () => {
  it.each<[string, Buffer, string | null, string[], string, string | null]>([
    ["ASCII as it is", Buffer.from("Hello\n"), null, [], "Hello\n", null],
    ["UTF-8 with no label", Buffer.from(german), null, [], german, null],
    ["UTF-8 labelled US-ASCII (mislabelled, read as UTF-8)", Buffer.from(german), "us-ascii", [], german, null],
    ["Latin-1 with no label: Windows-1252", enc(german, "latin1"), null, [], german, "windows-1252"],
    ["Latin-1 labelled UTF-8 (a script's label): Windows-1252", enc(german, "latin1"), "utf-8", [], german, "windows-1252"],
    ["Windows-1252's quotes and euro sign, no label", enc("I don’t know “why” – € 5", "windows-1252"), null, [], "I don’t know “why” – € 5", "windows-1252"],
    ["a charset the message declares elsewhere (a Subject's encoded word)", enc("Dobrý den, faktura je špatně", "iso-8859-2"), null, ["iso-8859-2"], "Dobrý den, faktura je špatně", "iso-8859-2"],
    ["x-user-defined (a browser's label, private-use characters) is no charset: Windows-1252", enc(german, "latin1"), "x-user-defined", [], german, "windows-1252"],
    ["unknown-8bit (an MTA's label for 8-bit text it could not name)", enc(german, "latin1"), "unknown-8bit", [], german, "windows-1252"],
    ["a label only the Encoding Standard knows: iso-gb2312 is GB2312", enc(chinese, "gb18030"), "iso-gb2312", [], chinese, "gb18030"],
    ["UTF-8 with one bad byte stays UTF-8 (the good characters are not garbled)", Buffer.concat([Buffer.from("Grüße aus Köln "), Buffer.from([0xe9]), Buffer.from(" – Jürgen")]), "utf-8", [], "Grüße aus Köln \uFFFD – Jürgen", null],
    ["an ISO-2022-JP label over Shift_JIS bytes (Japanese mailers do it)", enc(japanese, "shift_jis"), "iso-2022-jp", [], japanese, "shift_jis"],
    ["an ISO-2022-JP label over EUC-JP bytes", enc(japanese, "euc-jp"), "ISO-2022-JP", [], japanese, "euc-jp"],
    ["ISO-2022-JP with its label lost (7-bit, RFC 1468)", Buffer.from("1b24422546253925481b28420a", "hex"), null, [], "テスト\n", "iso-2022-jp"],
    ["ASCII with a terminal escape is not ISO-2022-JP", Buffer.from("red \x1b[31mtext\x1b[0m"), null, [], "red \x1b[31mtext\x1b[0m", null],
  ])("%s", (_what, bytes, label, hints, text, readAs) => {
    expect(bodyText(bytes, label, hints)).toEqual({ text, readAs });
  });

  it("a cut in the middle of a UTF-8 character is not taken for another charset", () => {
    const bytes = Buffer.from("Grüße €");
    const cut = bytes.subarray(0, bytes.length - 1);
    expect(bodyText(cut, null, [], { cut: true })).toEqual({ text: "Grüße ", readAs: null });
    // Not cut: the same bytes are damaged UTF-8, read as such (most of them are good).
    expect(bodyText(cut, null, []).readAs).toBe(null);
  });

  it.each([
    ["Chinese (GB18030)", chinese, "gb18030"],
    ["Chinese (Big5)", "您好，三月份的發票金額有錯誤，請儘快處理並回覆我們，謝謝。", "big5"],
    ["Japanese (Shift_JIS)", japanese, "shift_jis"],
    ["Japanese (EUC-JP)", japanese, "euc-jp"],
    ["Korean (EUC-KR)", korean, "euc-kr"],
  ])("%s with no label and no hint: guessed", (_what, text, charset) => {
    expect(bodyText(enc(text, charset), null, [], { guess: charsetGuesser() })).toEqual({ text, readAs: charset });
  });

  it.each([
    ["German", german, "latin1"],
    ["a single word", "Grüße", "latin1"],
    ["Czech", "Dobrý den, faktura za březen je špatně. Děkuji", "iso-8859-2"],
    ["Russian", "Здравствуйте, счёт за март неверный. Спасибо", "windows-1251"],
  ])("%s with no label is never guessed as an East Asian charset: Windows-1252", (_what, text, charset) => {
    expect(bodyText(enc(text, charset), null, [], { guess: charsetGuesser() }).readAs).toBe("windows-1252");
  });

  it("a declared charset comes before a guess", () => {
    const bytes = enc(chinese, "gb18030");
    expect(bodyText(bytes, null, ["gb18030"], { guess: () => "euc-kr" })).toEqual({ text: chinese, readAs: "gb18030" });
  });
});

describe("charsetGuesser", () => {
  it("samples at most 8 parts a message; later parts take the charset guessed last", () => {
    const guess = charsetGuesser();
    for (let i = 0; i < 8; i++) expect(guess(enc(chinese, "gb18030"))).toBe("gb18030");
    // A ninth part is not looked at: Korean text is given the last guess.
    expect(guess(enc(korean, "euc-kr"))).toBe("gb18030");
    expect(charsetGuesser()(enc(korean, "euc-kr"))).toBe("euc-kr");
  });

  it("looks at no more than the first 8 KiB of a part", () => {
    // Chinese after 8 KiB of Latin-1 is not seen: no guess.
    const bytes = Buffer.concat([enc("é".repeat(8 * 1024), "latin1"), enc(chinese.repeat(20), "gb18030")]);
    expect(charsetGuesser()(bytes)).toBe(null);
  });
});
