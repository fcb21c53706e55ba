import { afterEach, describe, expect, it, vi } from "vitest";
import { reconcile, type ReconcileDeps } from "../../src/domain/reconcile";
import { setLogLevel } from "../../src/log";

/** A reconciler with nothing stuck, except what `over` says. */
const deps = (over: Partial<ReconcileDeps> = {}): ReconcileDeps => ({
  claim: async () => [],
  recheckAt: async () => {},
  fetchTwilio: async () => {
    throw new Error("not asked");
  },
  applyStatus: async () => "ignored",
  settleSent: async () => {},
  missingFromQueue: async () => [],
  lost: async () => {},
  batchLaunching: async () => false,
  proactive: async () => false,
  redeliver: async () => true,
  flushReports: async () => ({ sent: 0, retried: 0, dead: 0 }),
  matchOrphans: async () => 0,
  dropOldOrphans: async () => 0,
  closeIdle: async () => 0,
  wakeBatches: async () => 0,
  ...over,
});

async function linesOf(d: ReconcileDeps, level?: string) {
  setLogLevel(level);
  const lines: { level: string; event: string; counts?: Record<string, number>; reason?: string }[] = [];
  for (const method of ["log", "warn", "error"] as const) vi.spyOn(console, method).mockImplementation((line: string) => void lines.push(JSON.parse(line)));
  await reconcile(d, { now: Date.now(), recheckMs: 60_000 });
  return lines.filter((l) => l.event === "reconcile.done");
}

describe("the reconciler's tick line (what wrangler tail shows every minute)", () => {
  afterEach(() => {
    setLogLevel(undefined);
    vi.restoreAllMocks();
  });

  it("says nothing at info when the tick did nothing, and says so at debug", async () => {
    expect(await linesOf(deps())).toEqual([]);
    expect(await linesOf(deps(), "debug")).toMatchObject([{ level: "debug", counts: {} }]);
  });

  it("logs a busy tick at info with each non-zero count as its own field, not a JSON string", async () => {
    const [line, ...more] = await linesOf(deps({ closeIdle: async () => 2, flushReports: async () => ({ sent: 5, retried: 1, dead: 0 }), wakeBatches: async () => 3 }));
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: "info", counts: { idleClosed: 2, reportsSent: 5, reportsRetried: 1, batchesPending: 3 } });
    expect(line!.counts).not.toHaveProperty("reportsDead");
    expect(line!.counts).not.toHaveProperty("lost");
    expect(line).not.toHaveProperty("reason");
  });
});
