import { afterAll, describe, it } from "vitest";
import { report, runSoak } from "../../soak/run.mjs";
import { stopAllStacks } from "../../scripts/stack.mjs";

/**
 * The soak at a CI size: the same faults, restarts and verdict as `npm run soak`, fewer messages,
 * in both CXone dialects. The default size (2,000 messages, 300 conversations) is `npm run soak`
 * (`CXONE_API_MODE=dfo npm run soak` for DFO). Each run draws a fresh seed (workload and faults);
 * it is printed, and a failure's message says how to rerun it.
 */
const SIZE = { messages: 120, conversations: 24, restarts: 2 };

const MODES = [
  // Apart, so that the two run side by side (and neither meets the other's leftovers).
  { mode: "open-messaging" as const, basePort: 27_787, env: "" },
  { mode: "dfo" as const, basePort: 28_787, env: "CXONE_API_MODE=dfo " },
];

describe("soak (small)", () => {
  // A run the test gave up on (timeout) must not leave wrangler, workerd and the emulators behind.
  afterAll(() => stopAllStacks(), 60_000);

  // Side by side: most of a small run is waiting (drain, the quiet period), not work.
  it.concurrent.for(MODES)("$mode: loses nothing, duplicates nothing and keeps every rate and order through faults and two restarts", { timeout: 600_000 }, async ({ mode, basePort, env }, { signal, expect }) => {
    const seed = Date.now() % 100_000;
    const rerun = `${env}SOAK_SEED=${seed} SOAK_MESSAGES=${SIZE.messages} SOAK_CONVERSATIONS=${SIZE.conversations} npm run soak`;
    console.log(`soak (${mode}) seed ${seed} (rerun: ${rerun})`);
    const result = await runSoak({ ...SIZE, mode, seed, basePort, timeoutS: 150, signal, log: () => {} });
    const text = `seed ${seed} — rerun: ${rerun}\n${report(result)}`;
    expect(result.restarts, text).toBe(2);
    expect(result.ok, text).toBe(true);
  });
});
