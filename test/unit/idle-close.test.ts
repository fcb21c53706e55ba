import { describe, expect, it } from "vitest";
import { closeIdle, IDLE_CLOSE_GRACE_MS, IDLE_CLOSE_RETRY_MS } from "../../src/domain/idle-close";
import { AppError } from "../../src/errors";

const upstream = (status: number) => new AppError(502, "upstream", "CXone failed", { upstreamStatus: status, retryable: status >= 500 });

describe("closing idle proactive threads", () => {
  it.each([
    ["CXone closes it", undefined, true],
    ["CXone no longer knows it (404): as good as closed", upstream(404), true],
    ["CXone fails (503): tried again after the retry interval", upstream(503), false],
    ["CXone refuses (400): tried again after the retry interval", upstream(400), false],
  ])("%s", async (_name, failure, closed) => {
    const marked: string[] = [];
    const claims: number[] = [];
    const count = await closeIdle(
      {
        claim: async (now, _limit, retryAt, graceMs) => {
          claims.push(retryAt - now, graceMs);
          return [{ id: "conv-1", campaignId: "c" }];
        },
        close: async () => {
          if (failure) throw failure;
        },
        markClosed: async (ids) => void marked.push(...ids),
      },
      1_000,
    );
    // The Cron leaves a thread to its sender object for the grace period.
    expect(claims).toEqual([IDLE_CLOSE_RETRY_MS, IDLE_CLOSE_GRACE_MS]);
    expect(count).toBe(closed ? 1 : 0);
    expect(marked).toEqual(closed ? ["conv-1"] : []);
  });
});
