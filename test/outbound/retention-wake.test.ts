import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { outboundItem, pusher, sender, settle } from "../support/outbound";

/**
 * A sender's idle wake is its oldest settled row's retention. The pass that wakes for it must
 * prune by the same clock it woke by: pruning by another kept the row, re-armed the alarm for
 * the same moment, and every message queued after it waited behind that alarm for good (the
 * proactive "ghost threads" tests met it after a batch test had stepped the bulk sender there).
 */
describe("a sender woken for retention", () => {
  const emu = useEmulators();

  it("prunes the settled row it woke for and sends what is queued after it", async () => {
    const push = pusher(emu);
    const first = outboundItem();
    expect((await push(first)).status).toBe(200);
    await settle();
    const stub = sender();
    // Its final status settles it; the pass after it writes it to D1.
    const sms = emu.twilio.messages().find((m) => m.body === first.body)!;
    expect(await emu.twilio.sendStatus(sms.sid, "delivered")).toBe(200);
    await step(stub);
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    // Idle: the only wake left is the first message's retention, days away.
    expect(alarm! - Date.now()).toBeGreaterThan(86_400_000);
    await step(stub);
    expect(await stub.inspect(first.id)).toBeUndefined();

    const second = outboundItem();
    expect((await push(second)).status).toBe(200);
    await settle(undefined, 50);
    expect(emu.twilio.messages().map((m) => m.body)).toContain(second.body);
  });
});
