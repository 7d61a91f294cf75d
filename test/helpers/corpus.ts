// The shared mail corpus (../shared/corpus, never copied into the repo): every message in it, and
// what Zammad's own test expectations (.yml next to each .box) say about from, subject and
// attachments.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { root } from "./cli.js";

/** ../shared/corpus next to the repository (CORPUS_DIR overrides it, e.g. to check the skip). */
export const corpusDir = resolve(root, process.env.CORPUS_DIR ?? "../shared/corpus");
export const corpusPresent = () => existsSync(corpusDir);

export type SubCorpus = "zammad" | "sisimai" | "discourse";

export interface CorpusMessage {
  /** Path relative to the corpus folder; `#n` (1-based) for the n-th message of an mbox file. */
  id: string;
  corpus: SubCorpus;
  /** The folder the message came from (bsd, dos, mac, mbox, ...): one database per group. */
  group: string;
  bytes: Buffer;
  /** Zammad's expectations, when a .yml sits next to the .box. */
  expected?: ZammadExpectation;
}

export interface ZammadAttachment {
  filename: string;
  mimeType: string | null;
  charset: string | null;
  contentId: string | null;
  /** Zammad's own rendering of the HTML body (content-alternative / original-format), not a part of the mail. */
  bodyRendering: boolean;
}

export interface ZammadExpectation {
  from: string | null;
  fromEmail: string | null;
  fromDisplayName: string | null;
  to: string | null;
  cc: string | null;
  subject: string | null;
  contentType: string | null;
  /** null when the .yml has no attachments key: Zammad's test then asserts nothing about them. */
  attachments: ZammadAttachment[] | null;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/**
 * An mbox file holds many messages, each after a `From ` separator line (mboxo/mboxrd, the form
 * sisimai's mailbox/ uses). The separator is dropped; `>From ` quoting in bodies is left as it is
 * (it is body text either way). A file with no separator line at all (sisimai's size-0/1/2: empty
 * or a few stray bytes) is taken as one message, as an MTA would hand it over.
 */
export function splitMbox(bytes: Buffer): Buffer[] {
  const text = bytes.toString("latin1"); // byte-preserving
  const starts: number[] = [];
  const re = /(^|\n)From [^\n]*\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + m[1].length);
  if (starts.length === 0) return [bytes];
  return starts.map((s, i) => {
    const bodyStart = text.indexOf("\n", s) + 1;
    const end = i + 1 < starts.length ? starts[i + 1] : text.length;
    return Buffer.from(text.slice(bodyStart, end), "latin1");
  });
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return String(v);
}

const TOP_KEY = /^(from|from_email|from_display_name|to|cc|subject|content_type|attachments|date|message_id|body):/;
const ATTACHMENT_KEY = /^(- !ruby|- | {2}(data|filename|preferences):)/;

/**
 * `body` and attachment `data` are not compared, and a few files quote them in a way only Ruby's
 * YAML reader accepts (single-quoted scalars continuing at column 0): drop them up to the next key.
 */
export function withoutBodies(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    if (TOP_KEY.test(line) || ATTACHMENT_KEY.test(line)) skipping = /^(body|  data):/.test(line);
    if (!skipping) out.push(line);
  }
  return out.join("\n");
}

export function readZammadYml(path: string): ZammadExpectation {
  // The files are Ruby YAML dumps (!ruby/hash tags): read them as plain maps.
  const doc = parseYaml(withoutBodies(readFileSync(path, "utf8")), { customTags: [{ tag: "!ruby/hash:ActiveSupport::HashWithIndifferentAccess", collection: "map", resolve: (m: unknown) => m } as never], logLevel: "error" }) as Record<string, unknown>;
  const atts = (Array.isArray(doc.attachments) ? doc.attachments : null) as Record<string, unknown>[] | null;
  return {
    from: str(doc.from),
    fromEmail: str(doc.from_email),
    fromDisplayName: str(doc.from_display_name),
    to: str(doc.to),
    cc: str(doc.cc),
    subject: str(doc.subject),
    contentType: str(doc.content_type),
    attachments: atts?.map((a) => {
      const p = (a.preferences ?? {}) as Record<string, unknown>;
      return {
        filename: String(a.filename ?? ""),
        mimeType: str(p["Mime-Type"]),
        charset: str(p.Charset),
        contentId: str(p["Content-ID"]),
        bodyRendering: p["content-alternative"] === true || p["original-format"] === true,
      };
    }) ?? null,
  };
}

/** Every message of the corpus, in a stable order. */
export function corpusMessages(): CorpusMessage[] {
  const out: CorpusMessage[] = [];
  const rel = (p: string) => relative(corpusDir, p);
  const zdir = join(corpusDir, "zammad");
  if (existsSync(zdir)) {
    for (const p of walk(zdir).filter((f) => f.endsWith(".box"))) {
      const yml = p.replace(/\.box$/, ".yml");
      out.push({ id: rel(p), corpus: "zammad", group: "zammad", bytes: readFileSync(p), expected: existsSync(yml) ? readZammadYml(yml) : undefined });
    }
  }
  const sdir = join(corpusDir, "sisimai");
  if (existsSync(sdir)) {
    for (const p of walk(sdir)) {
      const r = rel(p);
      const group = r.split("/").slice(-2)[0];
      if (r.includes("/mailbox/")) {
        splitMbox(readFileSync(p)).forEach((bytes, i, all) => out.push({ id: all.length > 1 ? `${r}#${i + 1}` : r, corpus: "sisimai", group: "mailbox", bytes }));
      } else if (p.endsWith(".eml")) {
        out.push({ id: r, corpus: "sisimai", group, bytes: readFileSync(p) });
      }
    }
  }
  const ddir = join(corpusDir, "discourse");
  if (existsSync(ddir)) {
    for (const p of walk(ddir).filter((f) => f.endsWith(".eml"))) out.push({ id: rel(p), corpus: "discourse", group: "discourse", bytes: readFileSync(p) });
  }
  return out;
}

// ---- comparing a staged mail with Zammad's expectations ----

export interface OurAttachment {
  filename: string | null;
  contentType: string | null;
  contentId: string | null;
  /** For a message/rfc822 part: the subject of the attached message, as our parser reads it. */
  innerSubject?: string | null;
}

const ws = (s: string | null | undefined) => (s ?? "").replace(/\s+/g, " ").trim();

/** Zammad shows a byte it could not decode as U+FFFD: that position matches any one character. */
export function sameText(expected: string, ours: string): boolean {
  const e = ws(expected);
  const o = ws(ours);
  if (!e.includes("\uFFFD")) return e === o;
  const re = new RegExp(`^${e.split("\uFFFD").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".")}$`, "u");
  return re.test(o);
}

/** Zammad renames the second "a.b.png" to "a1.b.png" (its uniquifier splits at the first dot). */
function zammadVariants(name: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = /^(.*?)\.(.+)$/.exec(name);
  return m ? new RegExp(`^${esc(m[1])}\\d*\\.${esc(m[2])}$`, "u") : new RegExp(`^${esc(name)}\\d*$`, "u");
}

// Zammad's names for parts that have none (app/models/channel/email_parser.rb): content-type
// words and extensions, used unless a Content-Description gives the stem.
const TYPE_NAMES: [RegExp, string, string][] = [
  [/^message\/delivery-status/i, "delivery-status", "txt"],
  [/^text\/plain/i, "document", "txt"],
  [/^text\/html/i, "document", "html"],
  [/^video\/quicktime/i, "video", "mov"],
  [/^image\/jpe?g/i, "image", "jpg"],
  [/^image\/png/i, "image", "png"],
  [/^image\/gif/i, "image", "gif"],
];

/** Could Zammad have named our nameless part `name`? (Its fallbacks, in its order.) */
export function zammadFallbackFits(name: string, a: OurAttachment): boolean {
  const cid = (a.contentId ?? "").replace(/^<|>$/g, "");
  const cidLocal = /^(.+?)@/.exec(cid)?.[1];
  if (cidLocal && zammadVariants(cidLocal).test(name)) return true;
  if (/^message\/rfc822/i.test(a.contentType ?? "")) {
    // The attached message's subject, else its Content-Description (not kept by us), else Mail.eml.
    return a.innerSubject ? sameText(`${a.innerSubject}.eml`, name) : name.endsWith(".eml");
  }
  const t = TYPE_NAMES.find(([re]) => re.test(a.contentType ?? ""));
  if (t && name.toLowerCase().endsWith(`.${t[2]}`)) return true;
  return /^file\d*$/.test(name);
}

export interface AttachmentComparison {
  ok: boolean;
  /** Zammad names no attachment of ours accounts for. */
  missing: string[];
  /** Our attachments no Zammad name accounts for. */
  extra: OurAttachment[];
  /** Each Zammad attachment with the one of ours it was matched to. */
  pairs: [ZammadAttachment, OurAttachment][];
}

/**
 * Every Zammad attachment (its own rendering of the HTML body left out) must be one of ours: same
 * name (allowing Zammad's uniquifier and its undecodable bytes), or, for a part without a name,
 * a name Zammad's fallbacks give such a part. And every one of ours must be accounted for.
 */
export function compareAttachments(expected: ZammadAttachment[], ours: OurAttachment[], allowedMissing: string[] = []): AttachmentComparison {
  const wanted = expected.filter((a) => !a.bodyRendering);
  const want = wanted.map((a) => a.filename);
  const left = [...ours];
  const missing: string[] = [];
  const pairs: [ZammadAttachment, OurAttachment][] = [];
  // Named parts first, so that a fallback never takes a name a real one needs.
  const order = [...want.keys()].sort((i, j) => Number(isPlainNamed(want[j], left)) - Number(isPlainNamed(want[i], left)));
  for (const i of order) {
    const name = want[i];
    let k = left.findIndex((a) => a.filename !== null && sameText(name, a.filename));
    if (k < 0) k = left.findIndex((a) => a.filename !== null && zammadVariants(a.filename).test(name));
    if (k < 0) k = left.findIndex((a) => a.filename === null && zammadFallbackFits(name, a));
    if (k >= 0) pairs.push([wanted[i], left.splice(k, 1)[0]]);
    else if (!allowedMissing.includes(name)) missing.push(name);
  }
  return { ok: missing.length === 0 && left.length === 0, missing, extra: left, pairs };
}

const isPlainNamed = (name: string, ours: OurAttachment[]) => ours.some((a) => a.filename !== null && sameText(name, a.filename));
