// What records keep of a mail's sender mailbox and Message-ID: both are indexed (the sender lookup,
// the reused-id note), and an index entry has a size limit (PostgreSQL: about 2.7 KB after
// compression, so a crafted value of random characters fails the write). Longer values are kept
// in the raw message only, and the trace says so.
import type { ParsedMail } from "./parse.js";

/** A NUL is kept in the raw bytes only: PostgreSQL text cannot hold one (issue 11), as a value or
 * as a parameter, and no reader of a record's fields needs it. */
export const withoutNul = <T extends string | null | undefined>(v: T): T => (v?.includes("\0") ? (v.replaceAll("\0", "") as T) : v);

/** RFC 5321 4.5.3.1: a local part of 64 octets, "@", a domain of 255. Longer is no mailbox. */
export const MAX_ADDRESS = 320;

const mailboxOrNull = (address: string | undefined) => (address && address.length <= MAX_ADDRESS ? address.toLowerCase() : null);

/** The sender's mailbox as the record keeps it (staged_mails.from_address) and the sender lookup
 * asks for it: ingest.ts applyComponents and read-ahead.ts derive it here, so the two agree. */
export const senderMailbox = (parsed: Pick<ParsedMail, "from">) => withoutNul(mailboxOrNull(parsed.from?.address));

/** RFC 5322 2.1.1: a line is at most 998 characters, and a msg-id cannot be folded. Longer is no
 * Message-ID (parse.ts). */
export const MAX_MESSAGE_ID = 998;
