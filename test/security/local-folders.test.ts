// Issue 10 point 5 on either engine (issue 11.8): a host's local folders (spool, attachments,
// outbox) are created private under a careless umask, and what stays in them is private too. On
// SQLite they sit beside the database (private-files.test.ts checks the database files as well); on
// PostgreSQL they are the data folder ($XDG_DATA_HOME/ingest-mail), and the bytes themselves go to
// the database, so the spool and attachment files are gone once the mail is processed.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db, onPostgres, rows, run, storedBytes } from "../helpers/cli.js";
import { walk, withAttachment } from "../hardening/support.js";
import { desk } from "./support.js";

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

let saved: number;
beforeAll(() => {
  saved = process.umask(0o022);
});
afterAll(() => void process.umask(saved));

describe("a host's local folders are private on either engine", () => {
  it("under umask 022: spool, attachments and outbox folders 0700, their files 0600", () => {
    const d = desk({ supportAddresses: ["service@example.com"], routes: [{ address: "service@example.com", kind: "ticket", sendResponse: true }], inlineRawMaxBytes: 1024 }, { init: false });
    // A data folder that does not exist yet: the ingest creates it.
    const data = join(d.dir, "fresh", "ingest-mail");
    if (onPostgres) d.env.XDG_DATA_HOME = join(d.dir, "fresh");
    else d.env.INGEST_MAIL_DB = join(data, "ingest.db");
    const r = run(d, ["--json"], withAttachment({ messageId: "local-folders@customer.example", from: "dora@customer.example", size: 4096 }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: "complete", outbound: [expect.objectContaining({ status: "sent" })] });

    const folders = [data, join(data, "spool"), join(data, "attachments"), d.outbox];
    for (const f of folders) expect([f, existsSync(f) && mode(f)]).toEqual([f, "700"]);
    const files = [...["spool", "attachments"].flatMap((f) => walk(join(data, f)).map((x) => join(data, f, x))), ...walk(d.outbox).map((x) => join(d.outbox, x))];
    for (const f of files) expect([f, mode(f)]).toEqual([f, "600"]);
    for (const sub of readdirSync(join(data, "attachments"))) expect(mode(join(data, "attachments", sub))).toBe("700");

    // The spooled message (over inlineRawMaxBytes) and its attachment are reachable either way.
    const conn = db({ ...d, db: onPostgres ? d.db : join(data, "ingest.db") });
    try {
      const [staged] = rows<{ rawPath: string }>(conn, `SELECT raw_path AS "rawPath" FROM staged_mails`);
      const [att] = rows<{ storedPath: string }>(conn, `SELECT stored_path AS "storedPath" FROM attachments`);
      expect(storedBytes(conn, staged.rawPath).toString("latin1")).toContain("local-folders@customer.example");
      expect(storedBytes(conn, att.storedPath).length).toBeGreaterThan(0);
      if (onPostgres) expect(files.filter((f) => !f.startsWith(d.outbox))).toEqual([]);
      else expect(files.filter((f) => f.includes("/attachments/")).length).toBeGreaterThan(0);
    } finally {
      conn.close();
    }
  });
});
