import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { senderObject } from "../../src/domain/outbound/shards";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { step } from "../support/clock";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

// One CXone for the file: the poller's cursor (kept in this file's storage) points into its feed.
const emu = useEmulators({ perFile: true });
const push = pusher(emu);

const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);
const tick = () => env.POLLER.getByName("poller").tick();

describe("an agent reply reaches the customer exactly once", () => {
  it("sends a pushed reply through Twilio and reports SENT with the MessageSid to CXone", async () => {
    const item = outboundItem({ body: "Your order ships today" });
    expect((await push(item)).status).toBe(200);
    await settle();
    const sent = sentTo(item.to);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ body: "Your order ships today", from: B.TWILIO_FROM_NUMBER, status_callback: `${B.PUBLIC_BASE_URL}/twilio/status?o=${encodeURIComponent(B.TWILIO_FROM_NUMBER)}&m=${item.id}` });
    const reports = emu.cxone.state.reports.get(item.id) ?? [];
    expect(reports.map((r) => r.body.status)).toEqual(["SENT"]);
    expect(reports[0]!.body.deliveryReceipt.providerMessageId).toBe(sent[0]!.sid);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'submitted' AND message_sid = ?", item.id, sent[0]!.sid)).toBe(1);
  });

  it("sends one SMS when the same id is pushed four times at once", async () => {
    const item = outboundItem();
    const answers = await Promise.all([push(item), push(item, "hmac"), push(item), push(item, "hmac")]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await settle();
    expect(sentTo(item.to)).toHaveLength(1);
  });

  it("sends one SMS when a reply is both pushed and polled", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer }));
    await thread(customer).deliver();
    const conversationId = emu.cxone.conversationsOf(customer)[0]!.id;
    const reply = await emu.cxone.agentReply({ conversationId, body: "pushed and polled", push: true });
    expect(reply.pushed).toBe(200);
    await tick();
    await settle();
    expect(sentTo(customer)).toHaveLength(1);
    // The conversation's business number is the sender.
    expect(sentTo(customer)[0]!.from).toBe(B.TWILIO_FROM_NUMBER);
  });

  it("sends one SMS per item when the feed is polled twice", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer }));
    await thread(customer).deliver();
    const conversationId = emu.cxone.conversationsOf(customer)[0]!.id;
    await emu.cxone.agentReply({ conversationId, body: "polled" });
    await tick();
    await tick();
    await settle();
    expect(sentTo(customer)).toHaveLength(1);
  });

  it("drains 120 polled replies over three pages in one tick, stores the cursor, and sends nothing on the next tick", async () => {
    const before = emu.twilio.messages().length;
    const from = senderNumber();
    const items = Array.from({ length: 120 }, () => outboundItem({ from }));
    for (const item of items) await emu.cxone.agentReply({ ...item, conversationId: item.conversationId });
    const result = await tick();
    expect(result.items).toBe(120);
    expect(result.pages).toBe(3);
    const cursor = await env.POLLER.getByName("poller").cursor();
    expect(cursor).toBeTruthy();
    await settle(from);
    expect(emu.twilio.messages().length - before).toBe(120);
    expect(new Set(emu.twilio.messages().map((m) => m.to)).size).toBeGreaterThanOrEqual(120);

    const again = await tick();
    expect(again.items).toBe(0);
    await settle(from);
    expect(emu.twilio.messages().length - before).toBe(120);
    expect(await env.POLLER.getByName("poller").cursor()).toBe(cursor);
  });

  it("does not advance the cursor past a page it could not record", async () => {
    const from = senderNumber();
    const items = Array.from({ length: 3 }, () => outboundItem({ from }));
    for (const item of items) await emu.cxone.agentReply(item);
    const cursor = await env.POLLER.getByName("poller").cursor();
    emu.cxone.faults.add({ method: "GET", path: "^/api/v2/open-messaging/messages$", kind: "status", status: 503, times: 1 });
    const failed = await tick();
    expect(failed.error).toBeTruthy();
    expect(await env.POLLER.getByName("poller").cursor()).toBe(cursor);
    const ok = await tick();
    expect(ok.items).toBe(3);
    await settle(from);
    for (const item of items) expect(sentTo(item.to)).toHaveLength(1);
  });

  it("keeps a conversation's replies in createdTime order even when pushed out of order", async () => {
    const from = senderNumber();
    const conversationId = `conv-${crypto.randomUUID()}`;
    const to = phone();
    const base = Date.now();
    const items = Array.from({ length: 6 }, (_, i) =>
      outboundItem({ from, conversationId, to, body: `step ${i + 1}`, createdTime: new Date(base + i * 1000).toISOString() }),
    );
    const shuffled = [3, 0, 5, 1, 4, 2].map((i) => items[i]!);
    await Promise.all(shuffled.map((item) => push(item)));
    await settle(from);
    expect(sentTo(to).map((m) => m.body)).toEqual(items.map((i) => i.body));
  });

  it("fails a reply that has no sender at all, without sending, and tells CXone", async () => {
    const item = outboundItem({ conversationId: `conv-${crypto.randomUUID()}` });
    const worker = (await import("../../src/index")).default;
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const raw = JSON.stringify(item);
    emu.cxone.state.messageIds.add(item.id);
    const res = await worker.fetch(
      new Request(`${B.PUBLIC_BASE_URL}/cxone/outbound`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${B.CXONE_WEBHOOK_SECRET}` }, body: raw }),
      { ...env, TWILIO_FROM_NUMBER: "" } as Env,
      ctx,
    );
    expect(res.status).toBe(200);
    expect(sentTo(item.to)).toHaveLength(0);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "NO_SENDER"]]);
  });

  it("sends through a Messaging Service the reply names, counting against its conversation's share of the service's bucket", async () => {
    const mg = `MG${"a".repeat(32)}`;
    const item = outboundItem({ from: mg });
    await push(item);
    const shard = senderObject(requireConfig(env), mg, item.conversationId);
    expect(shard).toMatch(new RegExp(`^${mg}#[0-3]$`));
    await settle(shard);
    expect(sentTo(item.to)[0]).toMatchObject({ messaging_service_sid: mg });
    expect((await sender(shard).stats()).done).toBeGreaterThanOrEqual(1);
  });

  it("retries the SENT report when CXone is down and lands it once", async () => {
    const item = outboundItem();
    emu.cxone.faults.add({ method: "PUT", path: "^/api/v2/open-messaging/messages/", kind: "status", status: 503, times: 1 });
    await push(item);
    await settle();
    expect(emu.cxone.state.reports.get(item.id)).toBeUndefined();
    // Pending in the sender's own outbox (no D1 statement), retried by the sender's alarm.
    const stub = sender();
    expect((await stub.inspect(item.id))!.reports.map((r) => [r.status, r.state])).toEqual([["SENT", "pending"]]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM outbox WHERE cxone_message_id = ?", item.id)).toBe(0);
    // Time passes to the retry: the alarm sends it, once.
    await step(stub);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.status)).toEqual(["SENT"]);
    await step(stub);
    expect(emu.cxone.state.reports.get(item.id)).toHaveLength(1);
  });
});
