// The schema is applied on open: a fresh path just works, an older (here: pre-schema) database is
// migrated, and opening again applies nothing twice. Bookkeeping is drizzle's own table, so
// drizzle-kit and this migrator agree on what has been applied.
import Database from "better-sqlite3";
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { openSqliteStore, packageRoot } from "../../src/store/sqlite/open.js";

// Issue 11: each engine has its migrations; SQLite's are in drizzle/sqlite/.
const migrationsFolder = join(packageRoot, "drizzle", "sqlite");
const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
const tables = (c: Database.Database) => (c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
/** Opens (creating, migrating) through the store, closes it, and looks at the file with the driver. */
async function openedByStore(path: string): Promise<Database.Database> {
  await openSqliteStore(path, { busyTimeoutMs: 1000 }).close();
  return new Database(path);
}

describe("migrations on open", () => {
  it("a fresh path gets every migration, WAL mode and the version stamp", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "nested", "db.sqlite");
    const db = await openedByStore(path);
    expect(tables(db)).toEqual(expect.arrayContaining(["staged_mails", "issues", "interactions", "actions", "user_identifications", "outbound_mails"]));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(journal.entries.length);
    expect(db.prepare(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: journal.entries.length });
    db.close();
  });

  // Issue 9.4: a database that holds another program's tables is refused, not written into.
  it("a database of another program is refused, untouched", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "old.sqlite");
    const old = new Database(path);
    old.exec("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO legacy_notes (text) VALUES ('kept');");
    old.close();
    expect(() => openSqliteStore(path, { busyTimeoutMs: 1000 })).toThrow(/holds tables of another program \(legacy_notes\); refusing/);
    const again = new Database(path);
    expect(tables(again)).toEqual(["legacy_notes"]);
    again.close();
  });

  it.each([
    ["an empty file (0 bytes) older than a moment", (p: string) => {
      writeFileSync(p, "");
      utimesSync(p, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    }, /is an empty file \(0 bytes\); refusing to initialise it/],
    ["a text file", (p: string) => writeFileSync(p, "not a database ".repeat(200)), /is not a readable SQLite database \(SQLITE_NOTADB\)/],
    ["a database from a newer version", (p: string) => {
      const c = new Database(p);
      c.pragma(`user_version = ${journal.entries.length + 1}`);
      c.close();
    }, /has schema version \d+, newer than this program's \d+: upgrade ingest-mail/],
  ])("refuses %s (issue 9.4)", (_name, make, message) => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "db.sqlite");
    make(path);
    const before = readFileSync(path);
    expect(() => openSqliteStore(path, { busyTimeoutMs: 1000 })).toThrow(message);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("opening again applies nothing twice, even when the version stamp was lost", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "db.sqlite");
    const raw = await openedByStore(path);
    raw.pragma("user_version = 0"); // e.g. a copy made with a tool that drops it
    raw.close();
    const db = await openedByStore(path);
    expect(db.prepare(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: journal.entries.length });
    expect(db.pragma("user_version", { simple: true })).toBe(journal.entries.length);
    db.close();
  });

  it("a database made by an earlier release (first migration only) is brought up to date, rows kept", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "v1.sqlite");
    const [first] = readMigrationFiles({ migrationsFolder });
    const old = new Database(path);
    old.exec(`CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
    for (const stmt of first.sql) if (stmt.trim()) old.exec(stmt);
    old.prepare(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)`).run(first.hash, first.folderMillis);
    old.pragma("user_version = 1");
    old.exec(`INSERT INTO staged_mails (received_at, updated_at, status, source, content_hash, raw_size, headers) VALUES ('t', 't', 'complete', 'stdin', 'h', 1, 'Subject: kept')`);
    const indexes = (c: Database.Database) => (c.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'staged_mails' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(indexes(old)).toContain("staged_mails_hash_idx");
    old.close();

    const db = await openedByStore(path);
    expect(db.pragma("user_version", { simple: true })).toBe(journal.entries.length);
    expect(indexes(db)).toEqual(["staged_mails_dedup_key_unique", "staged_mails_from_idx", "staged_mails_message_id_idx", "staged_mails_received_idx", "staged_mails_status_idx"]);
    expect(db.prepare("SELECT headers FROM staged_mails").get()).toEqual({ headers: "Subject: kept" });
    db.close();
  });
});
