// The named queries use `?` placeholders (store/queries/, written once for both engines); the
// PostgreSQL protocol numbers them ($1, $2, …). One pass over the SQL, left to right: a `?` inside a
// string, a quoted identifier, a comment or a dollar-quoted body is text, not a placeholder.

/**
 * `?` → `$1…$n`, outside quotes and comments. Linear in the length of the SQL. Quoting follows
 * PostgreSQL's lexer: '…' with '' inside (a backslash is an ordinary character, as
 * standard_conforming_strings is on since 9.1: `ESCAPE '\'` is one backslash), E'…' with backslash
 * escapes, "…" with "", -- to the end of the line, nested /* … *\/, $tag$…$tag$.
 */
export function toNumbered(sql: string): string {
  let out = "";
  let from = 0; // start of the slice not yet copied to out
  let n = 0;
  const len = sql.length;
  let i = 0;
  while (i < len) {
    const c = sql.charCodeAt(i);
    if (c === 63 /* ? */) {
      out += sql.slice(from, i) + "$" + ++n;
      from = ++i;
    } else if (c === 39 /* ' */) {
      i = skipQuoted(sql, i + 1, 39, isEscapeString(sql, i));
    } else if (c === 34 /* " */) {
      i = skipQuoted(sql, i + 1, 34, false);
    } else if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      const nl = sql.indexOf("\n", i + 2);
      i = nl < 0 ? len : nl + 1;
    } else if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      i = skipBlockComment(sql, i + 2);
    } else if (c === 36 /* $ */) {
      i = skipDollarQuoted(sql, i);
    } else {
      i++;
    }
  }
  return from === 0 ? sql : out + sql.slice(from);
}

/** E'…' (or e'…'): the quote follows an E that is not the end of a longer word (`some'`). */
function isEscapeString(sql: string, quote: number): boolean {
  const e = sql.charCodeAt(quote - 1);
  return (e === 69 || e === 101) && !isWordChar(sql.charCodeAt(quote - 2));
}

/** Past the closing quote (a doubled quote is one quoted character); the end if unterminated. */
function skipQuoted(sql: string, i: number, quote: number, backslashes: boolean): number {
  const len = sql.length;
  while (i < len) {
    const c = sql.charCodeAt(i);
    if (backslashes && c === 92 /* \ */) i += 2;
    else if (c !== quote) i++;
    else if (sql.charCodeAt(i + 1) === quote) i += 2;
    else return i + 1;
  }
  return len;
}

function skipBlockComment(sql: string, i: number): number {
  const len = sql.length;
  for (let depth = 1; i < len; ) {
    if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
      i += 2;
      if (--depth === 0) return i;
    } else if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
      i += 2;
      depth++;
    } else i++;
  }
  return len;
}

/** At a `$`: past a $tag$…$tag$ body, or just past the `$` ($1, or a `$` inside a word). */
function skipDollarQuoted(sql: string, i: number): number {
  if (isWordChar(sql.charCodeAt(i - 1))) return i + 1; // foo$bar: part of an identifier
  let j = i + 1;
  while (j < sql.length && isWordChar(sql.charCodeAt(j)) && !(j === i + 1 && isDigit(sql.charCodeAt(j)))) j++;
  if (sql.charCodeAt(j) !== 36) return i + 1; // not a tag: $1 or a lone $
  const tag = sql.slice(i, j + 1);
  const end = sql.indexOf(tag, j + 1);
  return end < 0 ? sql.length : end + tag.length;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordChar = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
