import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { DFO_BINDINGS, TEST_BINDINGS } from "./test/support/bindings.ts";

// Miniflare keeps the tests' D1 and Durable Object files under the temp dir; in memory (tmpfs)
// the thousands of small synced writes of the batch and soak tests cost a fraction.
if (!process.env.TMPDIR && existsSync("/dev/shm")) process.env.TMPDIR = "/dev/shm";

/**
 * The small soak is the longest file (three minutes, mostly waiting on its stacks): first in its
 * group, beside the e2e files. Vitest puts files it has no timings for (a clean clone) in size
 * order, and the soak's small file ran last, alone, after them.
 */
class SoakFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const soak = (f: TestSpecification) => f.moduleId.endsWith("/test/node/soak.test.ts");
    return [...sorted.filter(soak), ...sorted.filter((f) => !soak(f))];
  }
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  /** Everything that runs inside workerd: real D1, Durable Objects and alarms; only the outbound
   * HTTP to Twilio/CXone is intercepted (and answered by the emulators). */
  const workerd = (name: string, bindings: Record<string, string>, include: string[], exclude: string[]) => ({
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ...bindings, TEST_MIGRATIONS: migrations } },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      setupFiles: ["./test/support/setup.ts"],
      globalSetup: ["./test/support/global-setup.ts"],
      testTimeout: 20_000,
      // One workerd per worker for all its files: a fresh one per file cost 5 s of setup each (384 s
      // of a 595 s run). Storage still goes with each file (setup.ts), and no file may lean on an
      // isolate's state an earlier file left (the CXone token test fetches its own token).
      isolate: false,
      sequence: { groupOrder: 0 },
    },
  });
  return {
    test: {
      reporters: ["default", "./test/support/watchdog-reporter.ts"],
      sequence: { sequencer: SoakFirst },
      // Two files at a time on 2 cores. Vitest's default (cores − 1) ran every file one after the
      // other, where the Node files mostly wait on their `wrangler dev` stacks.
      maxWorkers: 2,
      projects: [
        workerd("workers", TEST_BINDINGS, ["test/**/*.test.ts"], ["test/node/**", "test/dfo/**"]),
        // The same runtime with the objects in DFO mode (contract §8): their env is the binding's.
        workerd("workers-dfo", DFO_BINDINGS, ["test/dfo/**/*.test.ts"], []),
        {
          // Node-side checks: the official `twilio` package and real HTTP against `wrangler dev`.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            // After the workerd files, not beside them: the soak's and e2e's wrangler stacks load
            // both cores, and the real-clock tests in workerd (order window, rate) then missed
            // their times (three failed in one CI run).
            sequence: { groupOrder: 1 },
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
