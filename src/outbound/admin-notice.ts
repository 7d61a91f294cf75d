// Maximo's error notification: a staged mail went to `error`; tell the administrator what failed and
// how to resubmit it (domain.md §1.5, §1.6).
import type { OutgoingMail } from "../pipeline/deps.js";
import { bareAddress } from "../rules/confirm.js";
import { safe } from "../terminal-safe.js";
import { headerText } from "./header-safe.js";

export interface AdminNoticeInput {
  from: string;
  to: string;
  staged: { id: number; receivedAt: string; fromAddress: string | null; subject: string | null; messageId: string | null };
  error: string;
  dbPath: string;
  mailGuid: string;
  host: string;
  date: Date;
}

export function renderAdminNotice(i: AdminNoticeInput): OutgoingMail {
  const s = i.staged;
  // The mail's subject and ids as escapes where they hold controls: the admin's mail client would
  // show an ESC or a bidi override from them as it is (quoted-printable decodes back to it).
  const oneLine = (v: string | null) => safe((v ?? "(none)").replace(/\s+/g, " ").trim());
  const text = [
    `ingest-mail could not process staged mail ${s.id}.`,
    "",
    `Received:   ${s.receivedAt}`,
    `From:       ${oneLine(s.fromAddress)}`,
    `Subject:    ${oneLine(s.subject)}`,
    `Message-ID: ${oneLine(s.messageId)}`,
    `Error:      ${oneLine(i.error)}`,
    "",
    `The message is kept with status "error" and is not processed again until it is resubmitted.`,
    "Look at it, fix the cause, then resubmit it:",
    "",
    `  ingest-mail show ${s.id} --db ${i.dbPath}`,
    `  ingest-mail resubmit ${s.id} --db ${i.dbPath}`,
    "",
  ].join("\n");
  return {
    from: i.from,
    to: i.to,
    subject: `[ingest-mail] staged mail ${s.id} failed: ${headerText(oneLine(i.error), 80)}`,
    text,
    messageId: `<${i.mailGuid}@${i.host}>`,
    date: i.date,
    headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All", "X-Loop": bareAddress(i.from) },
  };
}
