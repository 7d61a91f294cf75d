// SQLite migrations (the embedded default). PostgreSQL has its own: drizzle.postgres.config.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/sqlite/schema.ts",
  out: "./drizzle/sqlite",
});
