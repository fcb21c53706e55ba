import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { advance, d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";

const emu = useEmulators();
afterEach(() => {
  vi.useRealTimers();
});

const APPEND = { method: "POST", path: "^/api/v2/conversations/[^/]+/messages$" };

async function landedOnce(customer: string, body: string) {
  const conversations = emu.cxone.conversationsOf(customer);
  expect(conversations).toHaveLength(1);
  expect(conversations[0]!.messages.filter((m) => m.text === body)).toHaveLength(1);
}

describe("CXone failing while a customer texts", () => {
  it("answers Twilio 200 at once while CXone is down (503), and lands the message later, once", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "status", status: 503, times: 2 });
    const res = await postInbound(inboundFields({ From: customer, Body: "are you there?" }));
    expect(res.status).toBe(200);

    const first = await thread(customer).deliver();
    expect(first.pending).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE customer = ? AND state = 'received'", customer)).toBe(1);

    expect((await advance(customer)).pending).toBe(1); // the second 503
    expect((await advance(customer)).pending).toBe(0);
    await landedOnce(customer, "are you there?");
    const mirrored = () => d1Count("SELECT COUNT(*) AS n FROM messages WHERE customer = ? AND state = 'delivered' AND attempts = 3", customer);
    // A retry within a second of the thread's last D1 write (the backoff is jittered): it follows a second on.
    if ((await mirrored()) === 0) await step(thread(customer));
    expect(await mirrored()).toBe(1);
  });

  it("waits at least as long as CXone's Retry-After on 429 before trying again", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "rate_limit", retryAfterSec: 120, times: 1 });
    await postInbound(inboundFields({ From: customer, Body: "slow down" }));
    const started = Date.now();
    await thread(customer).deliver();
    const { pending } = await thread(customer).status();
    expect(pending).toBe(1);
    const alarm = await runInDurableObject(thread(customer), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeGreaterThanOrEqual(started + 120_000);
    // Time passes to the alarm: it delivers.
    expect(await step(thread(customer))).toBe(true);
    await landedOnce(customer, "slow down");
  });

  it("retries a CXone call that times out and still lands the message once", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "timeout", delayMs: 1_500, times: 1 });
    await postInbound(inboundFields({ From: customer, Body: "timeout" }));
    await thread(customer).deliver();
    expect((await thread(customer).status()).pending).toBe(1);
    await advance(customer);
    await landedOnce(customer, "timeout");
  });

  it("does not duplicate a message whose append committed but whose answer was lost", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "lost", times: 1 });
    await postInbound(inboundFields({ From: customer, Body: "committed" }));
    await thread(customer).deliver();
    await advance(customer);
    await landedOnce(customer, "committed");
    expect(emu.cxone.state.calls["POST /api/v2/conversations/:id/messages"]).toBe(2);
  });

  it("keeps the conversation's order: a later message waits behind one being retried", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "status", status: 503, times: 1 });
    await postInbound(inboundFields({ From: customer, Body: "one" }));
    await postInbound(inboundFields({ From: customer, Body: "two" }));
    await thread(customer).deliver();
    expect((await thread(customer).status()).pending).toBe(2);
    await advance(customer);
    expect(emu.cxone.conversationsOf(customer)[0]!.messages.map((m) => m.text)).toEqual(["one", "two"]);
  });

  it("turns a message into a visible dead letter after the retry budget, and a retry delivers it", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "status", status: 503, times: Number(B.RETRY_MAX_ATTEMPTS) });
    const fields = inboundFields({ From: customer, Body: "doomed" });
    await postInbound(fields);
    await thread(customer).deliver();
    for (let i = 1; i < Number(B.RETRY_MAX_ATTEMPTS); i++) await advance(customer);
    const status = await thread(customer).status(fields.MessageSid!);
    expect(status.message).toMatchObject({ state: "dead", attempts: Number(B.RETRY_MAX_ATTEMPTS) });
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE kind = 'inbound' AND ref = ? AND state = 'open'", fields.MessageSid)).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'dead'", fields.MessageSid)).toBe(1);

    const retried = await thread(customer).retry(fields.MessageSid!);
    expect(retried.message?.state).toBe("delivered");
    await landedOnce(customer, "doomed");
  });

  it("dead-letters at once what CXone refuses outright (a 4xx other than 404/409)", async () => {
    const customer = phone();
    emu.cxone.faults.add({ ...APPEND, kind: "status", status: 422, times: 1 });
    const fields = inboundFields({ From: customer, Body: "refused" });
    await postInbound(fields);
    await postInbound(inboundFields({ From: customer, Body: "next" }));
    await thread(customer).deliver();
    expect((await thread(customer).status(fields.MessageSid!)).message).toMatchObject({ state: "dead", attempts: 1 });
    // The message behind it is not held hostage.
    expect(emu.cxone.conversationsOf(customer)[0]!.messages.map((m) => m.text)).toEqual(["next"]);
  });
});
