import { afterEach, describe, expect, it, vi } from "vitest";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";

/**
 * Issue 12, goal 1: a text is durable in its thread's object when Twilio gets its 200, with no D1
 * statement on the way; D1 gets one write per text, usually already "delivered".
 */
const emu = useEmulators();
afterEach(() => {
  vi.restoreAllMocks();
});

const APPEND = { method: "POST", path: "^/api/v2/conversations/[^/]+/messages$" };
const mirrorOf = (sid: string) => d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", sid);
const lastInbound = async (customer: string) =>
  (await d1Count("SELECT last_inbound_at AS n FROM conversations WHERE customer = ?", customer));

describe("the inbound hot path", () => {
  it("answers Twilio before D1 has the text, then mirrors it once as delivered", async () => {
    const customer = phone();
    const first = inboundFields({ From: customer, Body: "hello" });
    await postInbound(first);
    await thread(customer).deliver();

    // CXone takes its time (within the bridge's timeout): Twilio's answer waits for neither it nor D1.
    emu.cxone.faults.add({ ...APPEND, kind: "slow_commit", delayMs: 200, times: 1 });
    const second = inboundFields({ From: customer, Body: "second" });
    const res = await postInbound(second);
    expect(res.status).toBe(200);
    expect((await thread(customer).status(second.MessageSid!)).message).toBeDefined();
    expect(await mirrorOf(second.MessageSid!)).toBe(0);

    await thread(customer).deliver();
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'delivered'", second.MessageSid!)).toBe(1);
  });

  it("writes the conversation row when the thread changes or its activity is stale, not per text", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "one" }));
    await thread(customer).deliver();
    const touched = await lastInbound(customer);
    expect(touched).toBeGreaterThan(0);

    const later = Date.now() + 60_000;
    vi.spyOn(Date, "now").mockReturnValue(later);
    await postInbound(inboundFields({ From: customer, Body: "two" }));
    await thread(customer).deliver();
    expect(await lastInbound(customer)).toBe(touched);

    // Eleven minutes on, the next text refreshes it (retention counts from it).
    const stale = Date.now() + 11 * 60_000;
    vi.spyOn(Date, "now").mockReturnValue(stale);
    await postInbound(inboundFields({ From: customer, Body: "three" }));
    await thread(customer).deliver();
    expect(await lastInbound(customer)).toBe(stale);
  });
});
