import { afterAll, describe, expect, it } from "vitest";
import { report, runSoak } from "../../soak/run.mjs";
import { stopAllStacks } from "../../scripts/stack.mjs";

/**
 * The soak at a CI size: the same faults, restarts and verdict as `npm run soak`, fewer messages,
 * in both CXone dialects. The default size (2,000 messages, 300 conversations) is `npm run soak`
 * (`CXONE_API_MODE=dfo npm run soak` for DFO). Each run draws a fresh seed (workload and faults);
 * it is printed, and a failure's message says how to rerun it.
 */
const SIZE = { messages: 120, conversations: 24, restarts: 2 };

describe.each([
  // Apart, so that the two can run side by side (and neither meets the other's leftovers).
  { mode: "open-messaging" as const, basePort: 27_787, env: "" },
  { mode: "dfo" as const, basePort: 28_787, env: "CXONE_API_MODE=dfo " },
])("soak (small, $mode)", ({ mode, basePort, env }) => {
  // A run the test gave up on (timeout) must not leave wrangler, workerd and the emulators behind.
  afterAll(() => stopAllStacks(), 60_000);

  it("loses nothing, duplicates nothing and keeps every rate and order through faults and two restarts", async ({ signal }) => {
    const seed = Date.now() % 100_000;
    const rerun = `${env}SOAK_SEED=${seed} SOAK_MESSAGES=${SIZE.messages} SOAK_CONVERSATIONS=${SIZE.conversations} npm run soak`;
    console.log(`soak (${mode}) seed ${seed} (rerun: ${rerun})`);
    const result = await runSoak({ ...SIZE, mode, seed, basePort, timeoutS: 150, signal, log: () => {} });
    const text = `seed ${seed} — rerun: ${rerun}\n${report(result)}`;
    expect(result.restarts, text).toBe(2);
    expect(result.ok, text).toBe(true);
  }, 600_000);
});
