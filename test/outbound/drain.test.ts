import { describe, expect, it, vi } from "vitest";
import { useEmulators } from "../support/emulators";
import { outboundItem, sender, settle } from "../support/outbound";

/**
 * Found by the drain benchmark (bench/drain.mjs, issue 12 goal 4): a sender whose rate allows many
 * sends at once keeps a bounded number of them open (unbounded, the benchmark's workerd ran out of
 * file descriptors and died).
 */
const emu = useEmulators();
/** 100,000 segments/s (TEST_BINDINGS): only the sender's own limits hold it back. */
const UNLIMITED = "+15550009002";
const SEND = { method: "POST", path: "/Messages\\.json$" };

/**
 * `count` replies, each its own conversation, all due at the same instant a moment from now: the
 * sender's own alarm (real time) then finds them all at once.
 */
async function dueTogether(count: number, from = UNLIMITED) {
  const at = Date.now() + 1_500;
  for (const item of Array.from({ length: count }, () => outboundItem({ from }))) {
    await sender(from).enqueue(from, { cxoneMessageId: item.id, conversationId: item.conversationId, to: item.to, body: item.body, from, mediaUrls: [], segments: 1, encoding: "GSM-7", notBefore: at });
  }
  await vi.waitFor(() => expect(emu.twilio.messages().filter((m) => m.from === from)).toHaveLength(count), { timeout: 15_000, interval: 20 });
}

describe("a sender draining a long queue", () => {
  it("keeps at most 32 sends open at Twilio, however many its rate would allow", async () => {
    emu.twilio.faults.add({ ...SEND, kind: "slow_commit", delayMs: 100 });
    await dueTogether(120);
    await settle(UNLIMITED);
    const { maxInFlight } = emu.twilio.stats();
    expect(maxInFlight).toBeLessThanOrEqual(32);
    expect(maxInFlight).toBeGreaterThan(1);
  });

});
