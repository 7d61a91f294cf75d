// PostgreSQL migrations (issue 11): `npx drizzle-kit generate --config drizzle.postgres.config.ts`.
// The SQLite ones (the embedded default) come from drizzle.config.ts; change both schemas together.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/postgres/schema.ts",
  out: "./drizzle/postgres",
});
