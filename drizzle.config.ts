import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations to migrations/, which wrangler applies
// (`wrangler d1 migrations apply DB`) and the tests apply through readD1Migrations.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/adapters/db/schema.ts",
  out: "./migrations",
});
