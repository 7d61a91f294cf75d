// The `?` → `$n` rewrite of the PostgreSQL engine (store/postgres/placeholders.ts): placeholders
// outside quotes and comments only, in one linear pass.
import { describe, expect, it } from "vitest";
import { toNumbered } from "../../src/store/postgres/placeholders.js";

describe("toNumbered", () => {
  it.each([
    ["SELECT 1", "SELECT 1"],
    ["SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"],
    ["INSERT INTO t (a, b) VALUES (?,?)", "INSERT INTO t (a, b) VALUES ($1,$2)"],
    ["SELECT '?' AS \"q?\", ? AS x", "SELECT '?' AS \"q?\", $1 AS x"],
    ["SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"],
    ["SELECT \"a\"\"?\" FROM t WHERE x = ?", "SELECT \"a\"\"?\" FROM t WHERE x = $1"],
    // standard_conforming_strings: a backslash is an ordinary character in '…'
    ["WHERE a LIKE ? ESCAPE '\\' AND b = ?", "WHERE a LIKE $1 ESCAPE '\\' AND b = $2"],
    // …but escapes a quote in E'…'
    ["SELECT E'\\'?', ?", "SELECT E'\\'?', $1"],
    ["SELECT some'?', ?", "SELECT some'?', $1"],
    ["SELECT ? -- a ? here\n, ?", "SELECT $1 -- a ? here\n, $2"],
    ["SELECT ? /* a ? /* nested ? */ still ? */ , ?", "SELECT $1 /* a ? /* nested ? */ still ? */ , $2"],
    ["SELECT $$ a ? $$, $tag$ b ? $tag$, ?", "SELECT $$ a ? $$, $tag$ b ? $tag$, $1"],
    ["SELECT a$b, ?", "SELECT a$b, $1"],
    ["SELECT 'unterminated ?", "SELECT 'unterminated ?"],
  ])("%s", (sql, want) => expect(toNumbered(sql)).toBe(want));

  it("is linear: a megabyte of SQL, quotes and all, in well under a second", () => {
    const part = `(?, 'it''s a ?', "col?", E'\\'?', /* ? */ ?)`;
    const sql = `INSERT INTO t VALUES ${Array(20_000).fill(part).join(", ")}`;
    const t = performance.now();
    const out = toNumbered(sql);
    expect(performance.now() - t).toBeLessThan(500);
    expect(out.endsWith(`$39999, 'it''s a ?', "col?", E'\\'?', /* ? */ $40000)`)).toBe(true);
  });
});
