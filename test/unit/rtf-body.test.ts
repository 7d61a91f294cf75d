// The body winmail.dat keeps as compressed RTF (src/pipeline/rtf-body.ts): HTML or text wrapped in
// RTF given back as it was, RTF written as RTF read as text, and the bounds on what is read.
import { describe, expect, it } from "vitest";
import { groupDepth, MAX_RTF_BYTES, MAX_RTF_DEPTH, MAX_RTF_TEXT, rtfBody } from "../../src/pipeline/rtf-body.js";
import { compressedRepeat, uncompressedRtf } from "../helpers/tnef-writer.js";

// [MS-OXRTFCP] 3.1.1: the specification's own example of compressed RTF.
const specExample = Buffer.from("2d0000002b0000004c5a4675f1c5c7a703000a007263706731323542320af32068656c090020627705b06c647d0a800fa0", "hex");

describe("rtfBody", () => {
  it.each<[string, Buffer, { text: string | null; html: string | null }]>([
    ["the specification's example ({\\rtf1\\ansi\\ansicpg1252\\pard hello world})", specExample, { text: "hello world", html: null }],
    [
      "HTML wrapped in RTF (\\fromhtml1) is the HTML it was",
      uncompressedRtf("{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}{\\*\\htmltag19 <html>}{\\*\\htmltag34 <body>}\\htmlrtf {\\htmlrtf0 Gr\\'fc\\'dfe\\htmlrtf }\\htmlrtf0{\\*\\htmltag35 </body>}{\\*\\htmltag27 </html>}}"),
      { text: null, html: "<html><body>Grüße</body></html>" },
    ],
    ["text wrapped in RTF (\\fromtext)", uncompressedRtf("{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0{\\fonttbl{\\f0\\fmodern Courier New;}}\\f0\\fs20 Gr\\'fc\\'dfe aus K\\'f6ln\\par Zeile zwei\\par}"), { text: "Grüße aus Köln\r\nZeile zwei\r\n", html: null }],
    [
      "RTF written as RTF: its text in its codepage, without a picture's hex or the document's properties",
      uncompressedRtf("{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset204 Arial;}}{\\info{\\author Ivan}}\\f0 \\'c7\\'e4\\'f0\\'e0\\'e2\\'f1\\'f2\\'e2\\'f3\\'e9\\'f2\\'e5\\par {\\pict\\wmetafile8 0102abcd}\\u1071?\\par}"),
      { text: "Здравствуйте\r\nЯ\r\n", html: null },
    ],
    ["a compressed stream's references, copied over themselves", compressedRepeat("{\\rtf1\\ansi ", "again ", 60), { text: "again again again again again again again again ", html: null }],
  ])("%s", (_what, compressed, want) => {
    expect(rtfBody(compressed)).toEqual({ body: want, why: null });
  });

  it.each<[string, Buffer, string]>([
    [`more than ${MAX_RTF_BYTES} bytes compressed`, uncompressedRtf(`{\\rtf1 ${"x".repeat(MAX_RTF_BYTES)}}`), `its RTF text is ${MAX_RTF_BYTES + 24} bytes compressed, more than ${MAX_RTF_BYTES} (not read)`],
    ["a size that claims more bytes than there are", Buffer.concat([specExample.subarray(0, 16), Buffer.alloc(4)]), "its RTF text is cut short (not read)"],
    ["neither compressed (LZFu) nor stored (MELA)", Buffer.concat([Buffer.from("0c000000000000005a5a5a5a00000000", "hex")]), "its RTF text is not compressed RTF (not read)"],
    [`a small stream that expands past ${MAX_RTF_TEXT} bytes`, compressedRepeat("{\\rtf1 ", "expand ", MAX_RTF_TEXT + 100), `its RTF text is ${MAX_RTF_TEXT + 100} bytes, more than ${MAX_RTF_TEXT} (not read)`],
    [`groups nested more than ${MAX_RTF_DEPTH} deep`, uncompressedRtf(`{\\rtf1 ${"{".repeat(MAX_RTF_DEPTH)}x${"}".repeat(MAX_RTF_DEPTH)}}`), `its RTF text nests groups more than ${MAX_RTF_DEPTH} deep (not read)`],
  ])("not read: %s", (_what, compressed, why) => {
    expect(rtfBody(compressed)).toEqual({ body: null, why });
  });

  it("a stream that claims a small size but expands past the bound is caught after decompressing", () => {
    const lying = compressedRepeat("{\\rtf1 ", "expand ", MAX_RTF_TEXT + 100);
    lying.writeUInt32LE(10, 4); // RawSize
    expect(rtfBody(lying).why).toBe(`its RTF text is ${MAX_RTF_TEXT + 100} bytes, more than ${MAX_RTF_TEXT} (not read)`);
  });

  it.each([
    ["{\\rtf1 {a}{b}}", 2],
    ["{\\rtf1 \\{ escaped \\} braces}", 1],
    ["{\\rtf1 \\\\{x}}", 2],
    ["}}}{", 1],
  ])("groupDepth(%s) = %i", (rtf, depth) => {
    expect(groupDepth(Buffer.from(rtf))).toBe(depth);
  });
});
