// Issue 5, bad input: whatever arrives on stdin is staged (or refused with a documented code), never
// a crash (exit 1 or a signal), and no file is ever written outside the attachments folder.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { count, db, mail, onPostgres, rows, run, type Sandbox } from "../helpers/cli.js";
import { configured, walk } from "./support.js";

const tag = randomBytes(4).toString("hex");
const escapeName = `../../../../../../tmp/evil-${tag}.txt`;

function nested(depth: number): string {
  let body = "";
  for (let i = 0; i < depth; i++) body += `--b${i}\nContent-Type: multipart/mixed; boundary="b${i + 1}"\n\n`;
  body += `--b${depth}\nContent-Type: text/plain\n\ndeep down\n--b${depth}--\n`;
  for (let i = depth - 1; i >= 0; i--) body += `--b${i}--\n`;
  return `From: deep@example.com\nTo: service@example.com\nSubject: nested ${depth}\nMessage-ID: <nested-${depth}@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n\n${body}`;
}

function attachmentNames(names: string[]): string {
  const parts = names.map((n, i) => `--zz\nContent-Type: application/octet-stream; name="${n}"\nContent-Disposition: attachment; filename="${n}"\n\npayload ${i}\n`);
  // RFC 2231 encoded name with a traversal and a NUL inside the percent-encoding.
  parts.push(`--zz\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=UTF-8''..%2F..%2F..%2Ftmp%2Fevil-${tag}%00.txt\n\nencoded\n`);
  return `From: names@example.com\nTo: service@example.com\nSubject: odd names\nMessage-ID: <names@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: text/plain\n\nsee attached\n${parts.join("")}--zz--\n`;
}

interface Case {
  name: string;
  input: () => Buffer;
  /** Expected staged status. */
  status: "complete" | "invalid" | "error";
  check?: (sb: Sandbox, staged: any) => void;
}

const cases: Case[] = [
  { name: "random binary", input: () => randomBytes(64 * 1024), status: "invalid" },
  { name: "NUL bytes everywhere", input: () => Buffer.from("From: nul@example.com\nSubject: a\u0000b\nMessage-ID: <nul@x>\n\nbody\u0000with\u0000nuls\n"), status: "complete" },
  {
    name: "8-bit headers without charset",
    input: () => Buffer.concat([Buffer.from("From: "), Buffer.from([0x4a, 0xf6, 0x72, 0x67]), Buffer.from(" <jorg@example.com>\nSubject: Caf"), Buffer.from([0xe9, 0x20, 0xc3, 0xa9]), Buffer.from("\nMessage-ID: <8bit@x>\n\nna\xefve\n", "latin1")]),
    status: "complete",
    check: (_sb, s) => expect(s.from_address).toBe("jorg@example.com"),
  },
  {
    name: "boundary declared but never used",
    input: () => Buffer.from(`From: b@example.com\nSubject: no parts\nMessage-ID: <nb@x>\nContent-Type: multipart/mixed; boundary="never"\n\njust text\n`),
    status: "complete",
  },
  {
    name: "no closing boundary, truncated base64 part",
    input: () => Buffer.from(`From: b@example.com\nSubject: cut\nMessage-ID: <cut@x>\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\ntext\n--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=a.png\n\niVBORw0KGgoAAAANSUhE`),
    status: "complete",
  },
  {
    name: "multipart without a boundary parameter",
    input: () => Buffer.from(`From: b@example.com\nSubject: noboundary\nMessage-ID: <nob@x>\nContent-Type: multipart/alternative\n\n--x\nContent-Type: text/plain\n\nhi\n--x--\n`),
    status: "complete",
  },
  { name: "a 200 KB header", input: () => Buffer.from(`From: h@example.com\nSubject: big header\nX-Big: ${"a".repeat(200 * 1024)}\nMessage-ID: <bighdr@x>\n\nbody\n`), status: "complete" },
  {
    name: "a 200 KB folded header (2,700 lines of 76)",
    input: () => Buffer.from(`From: h@example.com\nSubject: long\nX-Folded: start${`\n ${"w".repeat(75)}`.repeat(2_700)}\nMessage-ID: <bigfold@x>\n\nbody\n`),
    status: "complete",
  },
  // 20,000 header lines: mailsplit counts each line as at least 64 bytes against its 1 MB head
  // limit and refuses; staged as error for the administrator, not a crash.
  {
    name: "a 200 KB header of 20,000 short folded lines",
    input: () => Buffer.from(`From: h@example.com\nSubject: start${"\n continued".repeat(20 * 1024)}\nMessage-ID: <bigsubj@x>\n\nbody\n`),
    status: "error",
    check: (_sb, s) => {
      expect(s.error).toMatch(/Max header size/);
      // A header past 64 KiB is not read even alone: the record has the error and the raw bytes.
      expect(s).toMatchObject({ from_address: null, subject: null });
      expect(JSON.parse(s.trace).map((t: { step: string }) => t.step)).toEqual(["error"]);
    },
  },
  // An index entry has a size limit (PostgreSQL: ~2.7 KB after compression): 9,000 random
  // characters failed every write of the record, which stayed `new`. Now no Message-ID, noted.
  {
    name: "a Message-ID of 9,000 random characters",
    input: () => Buffer.from(`From: id@example.com\nSubject: long id\nMessage-ID: <${randomBytes(6750).toString("base64url")}@x>\n\nbody\n`),
    status: "complete",
    check: (_sb, s) => {
      expect(s.message_id).toBeNull();
      expect(JSON.parse(s.trace)).toContainEqual({ step: "parse", decision: "limited", reason: expect.stringMatching(/^the Message-ID is 9004 characters, .*RFC 5322 2\.1\.1: 998/) });
    },
  },
  {
    name: "a Message-ID of 9,000 random characters, in a multipart mail",
    input: () => Buffer.from(`From: id@example.com\nSubject: long id\nMessage-ID: <${randomBytes(6750).toString("base64url")}@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: text/html\n\n<p>body</p>\n--b--\n`),
    status: "complete",
    check: (_sb, s) => {
      expect(s.message_id).toBeNull();
      expect(JSON.parse(s.trace)).toContainEqual({ step: "parse", decision: "limited", reason: expect.stringMatching(/^the Message-ID is 9004 characters/) });
    },
  },
  { name: "200 levels of nested multiparts", input: () => Buffer.from(nested(200)), status: "complete", check: (sb, s) => expect(rows(db(sb), "SELECT details FROM actions WHERE interaction_id = ? ORDER BY id", s.interaction_id)[0].details).toContain("deep down") },
  // mailparser refuses very deep trees; the mail is still staged, as error, for the administrator.
  // The record still says who wrote and about what, read from the top-level header alone (issue 9.1).
  {
    name: "5000 levels of nested multiparts",
    input: () => Buffer.from(nested(5000)),
    status: "error",
    check: (_sb, s) => {
      expect(s).toMatchObject({ from_address: "deep@example.com", subject: "nested 5000", message_id: "<nested-5000@x>", to_addresses: "service@example.com", text_body: null });
      expect(s.headers).toContain("Content-Type: multipart/mixed");
      expect(JSON.parse(s.trace).map((t: { step: string; decision: string }) => `${t.step}: ${t.decision}`)).toEqual(["parse: header only", "error: error"]);
    },
  },
  {
    name: "attachment names with ../, NUL, 300 characters, absolute and backslash paths",
    input: () => Buffer.from(attachmentNames([escapeName, "bad\u0000name.txt", `${"x".repeat(300)}.txt`, "..\\..\\..\\win.txt", "/etc/passwd", ".", ".."])),
    status: "complete",
    check: (sb, s) => {
      const d = db(sb);
      const att = rows<{ filename: string | null; stored_path: string }>(d, "SELECT filename, stored_path FROM attachments WHERE staged_mail_id = ? ORDER BY id", s.id);
      d.close();
      expect(att).toHaveLength(8);
      // Names are data: kept (cleaned of control characters, at most 255 long), never a path on disk.
      expect(att[0].filename).toBe(escapeName);
      expect(att[1].filename).toBe("badname.txt");
      expect(att[2].filename!.length).toBeLessThanOrEqual(255);
      for (const a of att) {
        expect(a.filename ?? "").not.toMatch(/\u0000/);
        // PostgreSQL keeps the bytes in the database, by their hash (issue 11.8).
        if (onPostgres) expect(a.stored_path).toMatch(/^blob:[0-9a-f]{64}$/);
        else expect(a.stored_path.startsWith(`${sb.dir}/attachments/`)).toBe(true);
        if (!onPostgres) expect(a.stored_path).toMatch(/\/attachments\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
      }
    },
  },
];

describe("bad input is staged, never a crash, never a file outside the attachments folder", () => {
  it.each(cases)("$name", ({ input, status, check }) => {
    const sb = configured({ supportAddresses: ["service@example.com"] });
    const r = run(sb, ["--json"], input(), { encoding: "buffer" } as never);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.status).toBe(status);
    const d = db(sb);
    const staged = rows(d, "SELECT * FROM staged_mails ORDER BY id");
    d.close();
    expect(staged).toHaveLength(1);
    expect(staged[0].status).toBe(status);
    if (status === "error") expect(staged[0].error).toBeTruthy();
    check?.(sb, staged[0]);
    // Every file the run left is the database, the config, or an attachment stored under its hash.
    for (const f of walk(sb.dir)) expect(f).toMatch(/^(ingest\.db(-wal|-shm)?|config\.json|attachments\/[0-9a-f]{2}\/[0-9a-f]{64})$/);
    expect(existsSync(`/tmp/evil-${tag}.txt`)).toBe(false);
  });

  it("mail larger than limits.maxMessageBytes is staged as invalid with the reason, not bounced", () => {
    const sb = configured({ supportAddresses: ["service@example.com"], limits: { maxMessageBytes: 10_000 }, inlineRawMaxBytes: 4_000 });
    const big = mail({ From: "big@example.com", To: "service@example.com", Subject: "too big" }, "x".repeat(20_000));
    const r = run(sb, ["--json"], big);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: "invalid", issues: [] });
    expect(r.json().reason).toMatch(/larger than limits\.maxMessageBytes \(10000\)/);
    const d = db(sb);
    const [row] = rows(d, "SELECT status, reason, raw_size, raw_path, raw, raw_truncated, from_address, subject FROM staged_mails ORDER BY id");
    expect(row.status).toBe("invalid");
    expect(row.raw_size).toBe(Buffer.byteLength(big));
    // Issue 9.3: its headers and a bounded head of the body are kept (in the database), the rest
    // was read and discarded: no spool file remains.
    expect(row.raw_path).toBeNull();
    expect(row.raw_truncated).toBe(1);
    // Here the limit (10,000 bytes) comes before the 64 KiB head would end.
    expect(Buffer.from(row.raw).toString()).toBe(big.slice(0, 10_000));
    expect(row.from_address).toBe("big@example.com");
    expect(row.subject).toBe("too big");
    expect(walk(sb.dir).filter((f) => f.includes("/spool/"))).toEqual([]);
    expect(count(d, "issues")).toBe(0);
    d.close();
    expect(run(sb, ["list"]).stdout).toMatch(/invalid .*larger than limits\.maxMessageBytes/);
    // A mail at the limit goes through.
    const ok = run(sb, ["--json"], mail({ From: "big@example.com", To: "service@example.com", Subject: "fits" }, "y".repeat(5_000)));
    expect(ok.json().status).toBe("complete");
  });
});
