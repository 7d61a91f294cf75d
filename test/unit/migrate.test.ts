// The schema is applied on open: a fresh path just works, an older (here: pre-schema) database is
// migrated, and opening again applies nothing twice. Bookkeeping is drizzle's own table, so
// drizzle-kit and this migrator agree on what has been applied.
import Database from "better-sqlite3";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDb, packageRoot } from "../../src/db/open.js";

const journal = JSON.parse(readFileSync(join(packageRoot, "drizzle", "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
const tables = (c: Database.Database) => (c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);

describe("migrations on open", () => {
  it("a fresh path gets every migration, WAL mode and the version stamp", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "nested", "db.sqlite");
    const db = openDb(path, { busyTimeoutMs: 1000 });
    expect(tables(db.$client)).toEqual(expect.arrayContaining(["staged_mails", "issues", "interactions", "actions", "user_identifications", "outbound_mails"]));
    expect(db.$client.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.$client.pragma("user_version", { simple: true })).toBe(journal.entries.length);
    expect(db.$client.prepare(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: journal.entries.length });
    db.$client.close();
  });

  it("an existing database from before the schema is migrated, keeping its own tables and rows", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "old.sqlite");
    const old = new Database(path);
    old.exec("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO legacy_notes (text) VALUES ('kept');");
    old.close();
    const db = openDb(path, { busyTimeoutMs: 1000 });
    expect(tables(db.$client)).toEqual(expect.arrayContaining(["legacy_notes", "staged_mails"]));
    expect(db.$client.prepare("SELECT text FROM legacy_notes").get()).toEqual({ text: "kept" });
    db.$client.close();
  });

  it("opening again applies nothing twice, even when the version stamp was lost", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ingest-mail-mig-")), "db.sqlite");
    openDb(path, { busyTimeoutMs: 1000 }).$client.close();
    const raw = new Database(path);
    raw.pragma("user_version = 0"); // e.g. a copy made with a tool that drops it
    raw.close();
    const db = openDb(path, { busyTimeoutMs: 1000 });
    expect(db.$client.prepare(`SELECT count(*) AS n FROM "__drizzle_migrations"`).get()).toEqual({ n: journal.entries.length });
    expect(db.$client.pragma("user_version", { simple: true })).toBe(journal.entries.length);
    db.$client.close();
  });
});
