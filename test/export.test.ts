// Issue 14 point 4: getting things out. `show ID --raw` writes the message exactly as received (kept
// in the database or spooled to a file), `attachment get ID` the extracted bytes; neither overwrites
// a file without --force, and neither writes to a terminal.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, db, mail, onPostgres, readFixture, rows, runAsync, type Sandbox } from "./helpers/cli.js";
import { admin, configured, feed } from "./helpers/setup.js";

const cli = (sb: Sandbox, ...args: string[]) => runAsync(sb, args, "");
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

// runAsync decodes stdout as text; this keeps the bytes.
function rawStdout(sb: Sandbox, ...args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: sb.env });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`exit ${code}`))));
    child.stdin.end();
  });
}

describe("show --raw", () => {
  it("small mail, kept in the database: byte-identical on a pipe and in a file (CRLF, 8-bit bytes and all)", async () => {
    const sb = configured();
    const raw = Buffer.concat([
      Buffer.from("From: a@b.example\r\nTo: service@example.test\r\nSubject: raw\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"),
      Buffer.from([0xe9, 0x74, 0xe9, 0x0d, 0x0a, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x0a]),
    ]);
    const out = await feed(sb, raw);
    expect(await rawStdout(sb, "show", String(out.stagedId), "--raw")).toEqual(raw);
    const file = join(sb.dir, "copy.eml");
    const r = await cli(sb, "show", String(out.stagedId), "--raw", "-o", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`wrote ${raw.length} bytes to ${file}\n`);
    expect(readFileSync(file)).toEqual(raw);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("large mail, spooled to a file: byte-identical", async () => {
    const sb = configured();
    const body = Array.from({ length: 30_000 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\r\n");
    const raw = Buffer.from(mail({ From: "big@b.example", To: "service@example.test", Subject: "big" }, body).replace(/\n/g, "\r\n"));
    expect(raw.length).toBeGreaterThan(1024 * 1024);
    const out = await feed(sb, raw);
    // (Read from the database: `show --json` of a 1.3 MB record is cut by process.exit on a pipe.)
    // SQLite keeps it in the spool folder; on PostgreSQL the bytes are in the database, for every
    // host (issue 11.8). Either way --raw gives them back whole.
    if (!onPostgres) {
      const [row] = rows(db(sb), `SELECT raw, raw_path AS "rawPath" FROM staged_mails WHERE id = ?`, out.stagedId);
      expect(row.raw).toBeNull();
      expect(row.rawPath).toMatch(/spool\/[0-9a-f]{64}\.eml$/);
    }
    const file = join(sb.dir, "big.eml");
    expect((await cli(sb, "show", String(out.stagedId), "--raw", "-o", file)).code).toBe(0);
    expect(sha(readFileSync(file))).toBe(sha(raw));
    expect(sha(await rawStdout(sb, "show", String(out.stagedId), "--raw"))).toBe(sha(raw));
  });

  it.each([
    [["show", "1", "--raw", "-o", "EXISTING"], 64, /EXISTING exists; give --force to overwrite it/],
    [["show", "1", "--raw", "--json"], 64, /--raw writes the message itself; leave out --json/],
    [["show", "99", "--raw"], 66, /no staged mail 99/],
    [["show", "1", "--raw", "-o", "MISSING/copy.eml"], 64, /^ingest-mail: cannot write .*missing\/copy\.eml: its folder does not exist\n$/],
    [["show", "1", "--raw", "-o", "FOLDER", "--force"], 64, /^ingest-mail: cannot write .*: it is a folder\n$/],
    [["show", "1", "--raw", "-o", ""], 64, /^ingest-mail: -o needs a file name\n$/],
    [["attachment", "get", "1", "-o", "MISSING/a.bin"], 64, /cannot write .*: its folder does not exist/],
    // Without --raw, -o would be ignored and no file written.
    [["show", "1", "-o", "EXISTING"], 64, /^ingest-mail: -o goes with --raw \(show ID --raw -o FILE\)\n$/],
  ])("refuses %j", async (args, code, message) => {
    const sb = configured();
    await feed(sb, readFixture("attachments-stored-by-hash.eml"));
    const existing = join(sb.dir, "existing.eml");
    writeFileSync(existing, "keep me");
    const r = await cli(sb, ...args.map((a) => (a === "EXISTING" ? existing : a === "FOLDER" ? sb.dir : a.replace("MISSING", join(sb.dir, "missing")))));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message instanceof RegExp ? new RegExp(message.source.replace("EXISTING", existing.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))) : message);
    expect(readFileSync(existing, "utf8")).toBe("keep me");
  });

  // `| head -c 100`: the reader took what it wanted; a fault (70, "write EPIPE") would fail the script.
  it.each([
    [["show", "1", "--raw"]],
    [["attachment", "get", "1"]],
  ])("%j into a reader that stops after the first bytes ends quietly with 0", async (args) => {
    const sb = configured();
    const big = Buffer.alloc(3 * 1024 * 1024, "x").toString("base64").replace(/.{76}/g, "$&\n");
    await feed(sb, mail({ From: "big@b.example", To: "service@example.test", Subject: "big", "MIME-Version": "1.0", "Content-Type": "multipart/mixed; boundary=b" }, `--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream; name=big.bin\nContent-Transfer-Encoding: base64\n\n${big}\n--b--\n`));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { env: sb.env });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d));
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", (code) => resolve({ code, stderr }));
      child.stdin.end();
    });
    expect(r).toEqual({ code: 0, stderr: "" });
  });

  it("--force overwrites", async () => {
    const sb = configured();
    await feed(sb, readFixture("new-mail-opens-issue.eml"));
    const file = join(sb.dir, "existing.eml");
    writeFileSync(file, "old");
    expect((await cli(sb, "show", "1", "--raw", "-o", file, "--force")).code).toBe(0);
    expect(readFileSync(file)).toEqual(readFixture("new-mail-opens-issue.eml"));
  });
});

// util-linux script(1) gives the command a pseudo-terminal as stdout.
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!hasScript)("never raw bytes to a terminal", () => {
  it.each([
    [["show", "1", "--raw"], /not writing the raw message to a terminal/],
    [["attachment", "get", "1"], /not writing the attachment to a terminal/],
  ])("%j on a terminal exits 64 and writes nothing of the mail", async (args, message) => {
    const sb = configured();
    await feed(sb, readFixture("attachments-stored-by-hash.eml"));
    const cmd = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(" ");
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: sb.env, encoding: "utf8" });
    expect(r.status).toBe(64);
    expect(r.stdout).toMatch(message);
    expect(r.stdout).not.toContain("Damaged item");
  });
});

describe("attachment get", () => {
  const pdf = () => {
    // The fixture's first attachment, decoded as the parser stores it.
    const text = readFixture("attachments-stored-by-hash.eml").toString("latin1");
    const b64 = text.split('filename="invoice 1042.pdf"')[1].split("\n\n")[1].split("--b1")[0];
    return Buffer.from(b64.replace(/\s+/g, ""), "base64");
  };

  it("writes the extracted bytes to -o FILE or a pipe; show lists the attachment ids", async () => {
    const sb = configured();
    const out = await feed(sb, readFixture("attachments-stored-by-hash.eml"));
    const shown = await admin(sb, "show", String(out.stagedId));
    const invoice = shown.attachments.find((a: any) => a.filename === "invoice 1042.pdf");
    expect(invoice.sha256).toBe(sha(pdf()));
    const text = await cli(sb, "show", String(out.stagedId));
    expect(text.stdout).toContain(`  ${invoice.id}  invoice 1042.pdf  application/pdf`);
    const file = join(sb.dir, "invoice.pdf");
    const r = await cli(sb, "attachment", "get", String(invoice.id), "-o", file);
    expect(r.code).toBe(0);
    expect(readFileSync(file)).toEqual(pdf());
    expect(await rawStdout(sb, "attachment", "get", String(invoice.id))).toEqual(pdf());
    const again = await cli(sb, "attachment", "get", String(invoice.id), "-o", file);
    expect(again.code).toBe(64);
    expect(again.stderr).toMatch(/exists; give --force/);
    const described = await admin(sb, "attachment", "get", String(invoice.id));
    expect(described).toMatchObject({ id: invoice.id, filename: "invoice 1042.pdf", contentType: "application/pdf", size: pdf().length, written: null });
  });

  it("refuses an unknown id (66)", async () => {
    const sb = configured();
    const r = await cli(sb, "attachment", "get", "7");
    expect(r.code).toBe(66);
    expect(r.stderr).toMatch(/no attachment 7/);
  });
});
