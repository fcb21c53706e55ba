import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { network, unhandled } from "./network";

const testEnv = env as unknown as { DB: D1Database; TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] };
await applyD1Migrations(testEnv.DB, testEnv.TEST_MIGRATIONS);

/**
 * The bridge's log lines stay in memory and are printed only for a test that failed. Vitest
 * forwards each console call to its pool over the runner's socket; one made inside a Durable
 * Object is sent from that object's I/O context instead, and when the object is then aborted (a
 * simulated restart, the reset below) the forward never completes — and Vitest waits for every
 * pending forward before it reports the file finished. Runs stalled there with every test passed
 * (fixed upstream in @cloudflare/vitest-pool-workers 0.18.6, which needs Node 22).
 */
const KEPT_LINES = 2_000;
const kept: string[] = [];
const print = console.error.bind(console);
for (const method of ["log", "info", "warn", "error", "debug"] as const) {
  console[method] = (...args: unknown[]) => {
    kept.push(args.map((a) => (typeof a === "string" ? a : String(a))).join(" "));
    if (kept.length > KEPT_LINES) kept.splice(0, kept.length - KEPT_LINES);
  };
}
beforeEach(({ onTestFailed }) => {
  kept.length = 0;
  onTestFailed(() => print(`the bridge's log lines during this test (the last ${KEPT_LINES} at most):\n${kept.join("\n")}`));
});

beforeAll(() => network.enable());
afterEach(() => {
  network.resetHandlers();
  const seen = unhandled.splice(0);
  expect(seen, "outbound requests that no handler answered").toEqual([]);
});
// A file's objects outlive its tests: their alarms go on asking Twilio and CXone (senders check
// stuck sends on their own backoff) past the interception while the pool tears the runtime down.
// They go with the file, and so do D1's rows: the files share one runtime (vitest.config.ts), and
// a row left behind (a proactive conversation of a CXone emulator long gone) once stalled another
// file's test on the same number.
afterAll(async () => {
  // Nor does a clock held still or ahead (vi.spyOn(Date, "now")), nor a spy on the console.
  vi.restoreAllMocks();
  vi.useRealTimers();
  await reset();
  const { results } = await testEnv.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  if (results.length > 0) await testEnv.DB.batch(results.map(({ name }) => testEnv.DB.prepare(`DELETE FROM "${name}"`)));
  network.disable();
});
