// issue 13 in the web console: an action's stored new text shown first, the whole mail behind it.
import { describe, expect, it } from "vitest";
import { splitAction } from "../../src/web/quote.js";

describe("splitAction", () => {
  it.each([
    ["stored new text, history stripped", "Yes.\n\n> Shall we?\n", "Yes.", { fresh: "Yes.", quoted: "Yes.\n\n> Shall we?\n", whole: true }],
    ["stored new text, nothing stripped", "Hello.\n", "Hello.", { fresh: "Hello.\n", quoted: null }],
    ["an older action without it: split as before", "Yes.\n> Shall we?", null, { fresh: "Yes.", quoted: "> Shall we?" }],
    // issue 9.3: the new text that is the whole text is stored as "" (the body once, in details).
    ["stored as the whole text (\"\")", "Hello.\n", "", { fresh: "Hello.\n", quoted: null }],
    ["stored as the whole text, CRLF lines", "Hello.\r\nBye.\r\n", "", { fresh: "Hello.\nBye.", quoted: "Hello.\r\nBye.\r\n", whole: true }],
  ])("%s", (_what, details, replyText, expected) => {
    expect(splitAction(details, replyText)).toEqual(expected);
  });
});
