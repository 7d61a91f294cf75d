// issue 13: who wrote a mail that came back on the bounce path, from detect-auto's reasons
// (src/rules/report-source.ts). Pure, a table.
import { describe, expect, it } from "vitest";
import { personsAutoReply, writtenByMailSystem } from "../../src/rules/report-source.js";

describe("personsAutoReply / writtenByMailSystem", () => {
  it.each<[string, string[], boolean, boolean]>([
    ["an out-of-office reply (RFC 3834)", ["auto-submitted: auto-replied"], true, false],
    ["an Exchange out-of-office reply with a null sender", ["auto-submitted: auto-generated", "return-path: <>", 'subject: auto-reply ("automatic reply")', "x-auto-response-suppress with an auto-reply subject"], true, false],
    ["a Sieve vacation reply from the envelope's null sender", ["null envelope sender", "auto-submitted: auto-replied"], true, false],
    ["Postfix's bounce (it says auto-replied too)", ["auto-submitted: auto-replied", "content-type: multipart/report", "sender is mailer-daemon", "report part: message/delivery-status"], false, true],
    ["qmail's text bounce", ["sender is mailer-daemon", 'subject: delivery report ("failure notice")'], false, true],
    ["Exim's text bounce with a null sender", ["return-path: <>", "x-failed-recipients header present"], false, true],
    ["a report known only by its null sender", ["return-path: <>"], false, true],
    ["a newsletter", ["list mail: list-id", "precedence: bulk"], false, false],
    ["a person's mail", [], false, false],
  ])("%s", (_label, reasons, person, system) => {
    expect(personsAutoReply(reasons)).toBe(person);
    expect(writtenByMailSystem(reasons)).toBe(system);
  });
});
