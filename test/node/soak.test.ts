import { describe, expect, it } from "vitest";
import { report, runSoak } from "../../soak/run.mjs";

/**
 * The soak at a CI size: the same faults, restarts and verdict as `npm run soak`, fewer messages.
 * The default size (2,000 messages, 300 conversations) is `npm run soak`. The faults are drawn at
 * random, so each run meets a different mix; a failure's table names what went wrong.
 */
describe("soak (small)", () => {
  it("loses nothing, duplicates nothing and keeps every rate through faults and two restarts", async () => {
    const result = await runSoak({ messages: 120, conversations: 24, restarts: 2, seed: Date.now() % 1000, basePort: 27_787, timeoutS: 150, log: () => {} });
    const text = report(result);
    expect(result.restarts).toBe(2);
    expect(result.ok, text).toBe(true);
  }, 420_000);
});
