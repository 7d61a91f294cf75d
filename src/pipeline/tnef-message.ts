// A mail Outlook attached inside winmail.dat (attach method 5: "attach as item", a forwarded message)
// written out as the message/rfc822 file any other client would have attached, so the issue gets a
// mail that opens, not a TNEF stream no one can read. Its internet headers when it came by mail,
// else what its MAPI properties say; its body; its own files (and mails, to tnef.ts's MAX_DEPTH).
// nodemailer composes it (MIME encoding is its job); it and this file are loaded only for such a part.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Attachment } from "nodemailer/lib/mailer/index.js";
import { parseHeaderBlock, first } from "../rules/headers.js";
import { decodeHeaderValue } from "./header-text.js";
import type { TnefContent, TnefFile, TnefMessage } from "./tnef.js";


/**
 * The message as RFC 822 bytes, streamed (a 30 MB file inside it is never held encoded whole);
 * `stream` is its TNEF stream. The same stream always gives the same bytes (a resubmit stores the
 * same file): the MIME boundaries come from its hash, and a Date or Message-ID the mail does not
 * say is left out rather than made up (nodemailer adds both).
 */
export async function composeMessage(m: TnefMessage, stream: Buffer): Promise<AsyncIterable<Buffer>> {
  const { default: MailComposer } = await import("nodemailer/lib/mail-composer/index.js");
  const body = await bodyOf(m.content);
  const attachments: Attachment[] = [];
  for (const f of m.content.files) attachments.push(await attachmentOf(f));
  const headers = headersOf(m);
  // baseBoundary is nodemailer's (lib/mime-node), missing from its typings.
  const options: ConstructorParameters<typeof MailComposer>[0] & { baseBoundary: string } = {
    ...headers,
    text: body.text ?? undefined,
    html: body.html ?? undefined,
    attachments,
    baseBoundary: createHash("sha256").update(stream).digest("hex").slice(0, 24),
    // Only the bytes given here go in: nothing is read from a path or URL the mail names.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  const eml = new MailComposer(options).compile().createReadStream() as AsyncIterable<Buffer>;
  const unsaid = [headers.date ? null : "date", headers.messageId ? null : "message-id"].filter((n): n is string => n !== null);
  return unsaid.length ? withoutHeaders(eml, unsaid) : eml;
}

async function attachmentOf(f: TnefFile): Promise<Attachment> {
  // An attachment, as Outlook shows it: nodemailer would mark a message/rfc822 part inline.
  if (f.message) return { filename: emlName(f), contentType: "message/rfc822", contentDisposition: "attachment", content: Readable.from(await composeMessage(f.message, f.data)) };
  return { filename: f.name ?? undefined, contentType: f.contentType ?? undefined, cid: f.contentId ?? undefined, content: Readable.from(slices(f.data)) };
}

/** A file's bytes in 64 KiB pieces: nodemailer's base64 encoder then works piece by piece, not on one 30 MB string. */
function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
}

/** The message without the named top-level header fields (one line each as nodemailer writes these). */
async function* withoutHeaders(eml: AsyncIterable<Buffer>, names: string[]): AsyncGenerator<Buffer> {
  let head: Buffer | null = Buffer.alloc(0);
  for await (const chunk of eml) {
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const kept = head.subarray(0, end).toString("latin1").split("\r\n").filter((line) => !names.includes(line.slice(0, line.indexOf(":")).toLowerCase()));
    yield Buffer.from(kept.join("\r\n"), "latin1");
    yield head.subarray(end);
    head = null;
  }
  if (head?.length) yield head;
}

/** Its file name: the attachment's own name with .eml, else its subject, else "message.eml". */
export function emlName(f: TnefFile): string {
  const base = (f.name || f.message?.subject || "message").replace(/\.(msg|eml)$/i, "");
  return `${base}.eml`;
}

/** Its text or HTML, else its RTF read (rtf-body.ts, loaded only here). */
async function bodyOf(c: TnefContent): Promise<{ text: string | null; html: string | null }> {
  if (c.text || c.html || !c.rtf) return { text: c.text, html: c.html };
  const { rtfBody } = await import("./rtf-body.js");
  return rtfBody(c.rtf).body ?? { text: null, html: null };
}

interface Headers {
  from?: string;
  sender?: string;
  replyTo?: string;
  to?: string;
  cc?: string;
  subject?: string;
  date?: Date | string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
}

/** The headers taken from its transport headers (who, when, what, its place in a thread), by nodemailer's option name. */
const KEPT: [string, keyof Headers][] = [
  ["from", "from"], ["sender", "sender"], ["reply-to", "replyTo"], ["to", "to"], ["cc", "cc"],
  ["date", "date"], ["subject", "subject"], ["message-id", "messageId"], ["in-reply-to", "inReplyTo"], ["references", "references"],
];

/** Header values decoded to text (nodemailer encodes them again as they need), one line each. */
function headersOf(m: TnefMessage): Headers {
  const out: Headers = {};
  const h = parseHeaderBlock(m.headers ?? "");
  for (const [name, key] of KEPT) {
    const v = first(h, name);
    // A value that is already text beyond Latin-1 (PT_UNICODE headers) is taken as it is.
    if (v !== null) out[key] = /[^\x00-\xff]/.test(v) ? v : decodeHeaderValue(v);
  }
  out.from ??= m.from ?? undefined;
  out.to ??= m.to.length ? m.to.join(", ") : undefined;
  out.cc ??= m.cc.length ? m.cc.join(", ") : undefined;
  out.subject ??= m.subject ?? undefined;
  out.date ??= m.date ?? undefined;
  out.messageId ??= m.messageId ?? undefined;
  // One line each: a crafted value's line breaks must not start a header or the body of the file.
  for (const [k, v] of Object.entries(out)) if (typeof v === "string") (out as Record<string, unknown>)[k] = v.replace(/[\r\n]+/g, " ");
  return out;
}
