// Separates the message into its components (Maximo: to, from, cc, subject, message) and streams
// each attachment to a file named by its content hash: a name from the mail never reaches the disk.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { MailParser, type AddressObject, type AttachmentStream, type MessageText } from "mailparser";

export interface Address {
  address: string;
  name: string;
}

export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  contentId: string | null;
  sha256: string;
  storedPath: string;
}

export interface ParsedMail {
  headerBlock: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: Address | null;
  to: Address[];
  cc: Address[];
  deliveredTo: string[];
  subject: string | null;
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  /** Files this parse created (not already present), removed again if staging fails. */
  createdFiles: string[];
}

const MAX_STORED_NAME = 255;

export async function parseMail(source: Readable, attachmentsDir: string): Promise<ParsedMail> {
  const parser = new MailParser({ skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const out: ParsedMail = {
    headerBlock: "",
    messageId: null,
    inReplyTo: null,
    references: [],
    from: null,
    to: [],
    cc: [],
    deliveredTo: [],
    subject: null,
    date: null,
    text: null,
    html: null,
    attachments: [],
    createdFiles: [],
  };
  const pending: Promise<void>[] = [];
  parser.on("headerLines", (lines: { key: string; line: string }[]) => {
    out.headerBlock = lines.map((l) => l.line).join("\n");
    out.deliveredTo = lines
      .filter((l) => l.key === "delivered-to" || l.key === "x-original-to")
      .map((l) => l.line.slice(l.line.indexOf(":") + 1).trim().replace(/^<|>$/g, ""));
  });
  parser.on("headers", (h: Map<string, unknown>) => {
    const subject = h.get("subject");
    out.subject = typeof subject === "string" && subject.trim() !== "" ? subject.trim() : null;
    out.messageId = msgId(h.get("message-id"));
    out.inReplyTo = msgId(h.get("in-reply-to"));
    out.references = msgIds(h.get("references"));
    out.from = addresses(h.get("from"))[0] ?? null;
    out.to = addresses(h.get("to"));
    out.cc = addresses(h.get("cc"));
    const date = h.get("date");
    out.date = date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
  });
  parser.on("data", (data: AttachmentStream | MessageText) => {
    if (data.type === "attachment") {
      const done = storeAttachment(data, attachmentsDir, out).finally(() => data.release?.());
      done.catch(() => {}); // surfaced through Promise.all below
      pending.push(done);
    } else {
      out.text = data.text ?? null;
      out.html = typeof data.html === "string" ? data.html : null;
    }
  });
  await new Promise<void>((resolve, reject) => {
    parser.once("end", resolve);
    parser.once("error", reject);
    source.once("error", reject);
    source.pipe(parser);
  });
  await Promise.all(pending);
  return out;
}

async function storeAttachment(att: AttachmentStream, dir: string, out: ParsedMail): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  const hash = createHash("sha256");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(att.content, counter, createWriteStream(tmp, { flags: "wx", mode: 0o600 }));
    const sha256 = hash.digest("hex");
    const sub = join(dir, sha256.slice(0, 2));
    mkdirSync(sub, { recursive: true });
    const storedPath = join(sub, sha256);
    if (existsSync(storedPath)) rmSync(tmp, { force: true });
    else {
      renameSync(tmp, storedPath);
      out.createdFiles.push(storedPath);
    }
    out.attachments.push({
      filename: cleanName(att.filename),
      contentType: att.contentType || "application/octet-stream",
      size,
      contentId: att.contentId ?? null,
      sha256,
      storedPath,
    });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The original name is kept as data only; strip what could confuse a reader of it. */
function cleanName(name: string | undefined): string | null {
  if (!name) return null;
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return cleaned ? cleaned.slice(0, MAX_STORED_NAME) : null;
}

function addresses(value: unknown): Address[] {
  const objs = (Array.isArray(value) ? value : value ? [value] : []) as AddressObject[];
  const flat: Address[] = [];
  const walk = (list: AddressObject["value"]) => {
    for (const a of list ?? []) {
      if (a.group) walk(a.group);
      else if (a.address) flat.push({ address: a.address.trim(), name: (a.name ?? "").trim() });
    }
  };
  for (const o of objs) if (o && typeof o === "object") walk(o.value);
  return flat;
}

function msgIds(value: unknown): string[] {
  const text = (Array.isArray(value) ? value.join(" ") : typeof value === "string" ? value : "").trim();
  const ids = text.match(/<[^<>\s]+>/g);
  if (ids) return ids;
  return text ? text.split(/\s+/).map((s) => `<${s.replace(/^<|>$/g, "")}>`) : [];
}

function msgId(value: unknown): string | null {
  return msgIds(value)[0] ?? null;
}
