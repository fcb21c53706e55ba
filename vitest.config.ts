import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { TEST_BINDINGS } from "./test/support/bindings.ts";

// Miniflare keeps the tests' D1 and Durable Object files under the temp dir; in memory (tmpfs)
// the thousands of small synced writes of the batch and soak tests cost a fraction.
if (!process.env.TMPDIR && existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          // Everything that runs inside workerd: real D1, Durable Objects and alarms; only the
          // outbound HTTP to Twilio/CXone is intercepted (and answered by the emulators).
          plugins: [
            cloudflareTest({
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: { bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/node/**"],
            setupFiles: ["./test/support/setup.ts"],
            globalSetup: ["./test/support/global-setup.ts"],
            testTimeout: 20_000,
          },
        },
        {
          // Node-side checks: the official `twilio` package and real HTTP against `wrangler dev`.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
