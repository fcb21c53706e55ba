import { describe, expect, it } from "vitest";
import { applyStatus, type StatusDeps, type Tracked } from "../../src/domain/status-apply";
import type { TwilioStatus } from "../../src/domain/status";

/** A message and its receipts in memory: the status rules without D1. */
function message(twilioStatus: string, settled: boolean) {
  const tracked: Tracked = { cxoneMessageId: "m-1", sid: "SM1", sender: "+15550001000", customer: "whatsapp:+14155550100", twilioStatus, settled, carrierRetries: 0, conversationId: "c-1" };
  const receipts: string[] = [];
  /** Queued receipts and flushes, in the order the status machine made them. */
  const calls: string[] = [];
  const deps: StatusDeps = {
    find: async () => ({ ...tracked }),
    record: async () => {},
    advance: async (_sid, next, from) => {
      if (!from.includes(tracked.twilioStatus as TwilioStatus)) return false;
      tracked.twilioStatus = next;
      return true;
    },
    settle: async () => void (tracked.settled = true),
    receipt: async (_id, body) => {
      calls.push(body.status);
      if (!receipts.includes(body.status)) receipts.push(body.status);
    },
    flush: async () => void calls.push("flush"),
    suppress: async () => {},
    requeue: async () => false,
    finalize: async () => {},
  };
  return { tracked, receipts, calls, deps };
}
const read = { sid: "SM1", status: "read" as const, at: 0 };

describe("a read report (WhatsApp)", () => {
  it("racing a delivered callback that moves the message first: DELIVERED, then READ, both (found by the soak)", async () => {
    const m = message("sent", false);
    const advance = m.deps.advance;
    let raced = false;
    m.deps.advance = async (sid, next, from, code) => {
      if (next === "delivered" && !raced) {
        // The delivered callback's worker moves it first and has not queued its receipt yet.
        raced = true;
        m.tracked.twilioStatus = "delivered";
        return false;
      }
      return advance(sid, next, from, code);
    };
    expect(await applyStatus(m.deps, read, "callback")).toBe("read");
    expect(m.receipts).toEqual(["DELIVERED", "READ"]);
    expect(m.tracked).toMatchObject({ twilioStatus: "read", settled: true });
  });

  it.each([
    ["sent", false, ["DELIVERED", "READ"]],
    // Moved to delivered by a worker that died (or is still busy) before the receipt: finished here.
    ["delivered", false, ["DELIVERED", "READ"]],
    ["read", false, ["DELIVERED", "READ"]],
    ["delivered", true, ["READ"]],
    ["read", true, ["READ"]],
    ["undelivered", true, []],
    ["failed", false, []],
  ])("at %s (settled %s): receipts %o, DELIVERED always first", async (status, settled, expected) => {
    const m = message(status, settled);
    await applyStatus(m.deps, read, "callback");
    expect(m.receipts).toEqual(expected);
    // Both queued before anything goes to CXone: a restart while CXone takes the DELIVERED must
    // not lose the READ (found by the soak).
    expect(m.calls.filter((c) => c !== "flush")).toEqual(expected);
    expect(m.calls.indexOf("flush")).toBe(expected.length ? m.calls.length - 1 : -1);
  });
});
