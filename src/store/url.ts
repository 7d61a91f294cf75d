// Issue 11.2: a postgres:// or postgresql:// URL selects PostgreSQL; anything else is a SQLite path.
// On its own (no imports) so configuration and paths can ask without loading an engine.
export const isDatabaseUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/** A URL of another scheme (a typo such as postgress://, or mysql://), which must not become a file path. */
export const isOtherUrl = (target: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !isDatabaseUrl(target);
