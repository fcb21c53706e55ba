import { describe, expect, it } from "vitest";
import { numbers } from "./twilio-side";
import { conversationAfter, E2E, json, MODES, post, sleep, until, useE2E, type E2EContext } from "./stack";

/**
 * A deployment whose only sender is a Messaging Service (TWILIO_MESSAGING_SERVICE_SID set, no
 * TWILIO_FROM_NUMBER), under `wrangler dev` with the real clock, in both CXone dialects:
 * customers' texts with Twilio's empty fields, agent replies in CXone's order, single and batch alerts, and a
 * send Twilio commits after the bridge stopped waiting (issue 10, items 1, 2, 3 and 6).
 */
const SERVICE = `MG${"7".repeat(32)}`;
/** The number the Twilio emulator's Messaging Service sends from (its pool of one). */
const POOL_NUMBER = "+15005550006";
const GRACE_MS = 3_000;

const phone = numbers("+1646555");
const key = () => `e2e-mg-${crypto.randomUUID()}`;

/** Fields Twilio posts empty when it has no value for them. */
const EMPTY = { NumSegments: "", FromZip: "", FromCity: "", OptOutType: "" };
/** A customer's text to the service's number. */
const TO_SERVICE = { MessagingServiceSid: SERVICE, To: POOL_NUMBER, ApiVersion: "2010-04-01" };

/** The receipts of a reply once its final one is in. */
const finalReceipts = (e: E2EContext, id: string, timeoutMs?: number) =>
  until(`the final receipt of ${id}`, async () => {
    const got = await e.cx.receiptsOf(id);
    return got.some((r) => r.status !== "SENT") ? got : undefined;
  }, timeoutMs);

describe.each(MODES)("%s: a Messaging Service-only deployment under wrangler dev", (mode) => {
  const e = useE2E(mode, 2, {
    TWILIO_MESSAGING_SERVICE_SID: SERVICE,
    TWILIO_FROM_NUMBER: "",
    // Quiet hours have their own tests; alerts here must go whatever the hour.
    QUIET_HOURS: "00:00-00:00",
    LOST_ANSWER_GRACE_MS: String(GRACE_MS),
  });

  it("takes a text whose optional fields Twilio left empty, and threads it", async () => {
    const customer = phone();
    const conversation = await conversationAfter(e, customer, "Hi, is anyone there?", { ...TO_SERVICE, ...EMPTY });
    expect(conversation.messages.map((m) => m.text)).toEqual(["Hi, is anyone there?"]);
  });

  it("sends replies in the order CXone created them, through the service, on the real clock", async () => {
    const customer = phone();
    const conversation = await conversationAfter(e, customer, "Hi, where is my parcel?", TO_SERVICE);
    const now = Date.now();
    const b = await e.cx.agentReply(conversation, "B: it left the depot", { createdTime: new Date(now).toISOString() });
    await sleep(40);
    const a = await e.cx.agentReply(conversation, "A: let me check", { createdTime: new Date(now - 1_000).toISOString() });
    expect([b.status, a.status]).toEqual([200, 200]);
    const replies: Record<string, { id?: string }> = { "A: let me check": a, "B: it left the depot": b };
    // Open-messaging items carry CXone's createdTime, which the bridge follows even against the
    // order of the pushes; DFO's callback carries none it reads (contract §8): there CXone's order is
    // the callbacks'.
    const order = mode === "open-messaging" ? ["A: let me check", "B: it left the depot"] : ["B: it left the depot", "A: let me check"];
    // Real time, nobody driving the alarms: both go out through the service.
    const sms = await until("both replies", async () => {
      const got = await e.tw.sentTo(customer);
      return got.length >= 2 ? got : undefined;
    }, 15_000);
    expect(sms.map((m) => m.body)).toEqual(order);
    expect(sms.map((m) => m.messaging_service_sid)).toEqual([SERVICE, SERVICE]);
    for (const m of sms) {
      const receipts = await finalReceipts(e, replies[m.body]!.id!);
      expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "DELIVERED"]));
      if (mode === "open-messaging") expect(receipts[0]).toMatchObject({ providerMessageId: m.sid });
    }
  });

  it("sends a single alert through the service and threads the answer to the service's number into it", async () => {
    const to = phone();
    const res = await post(`${e.stack.bridgeUrl}/v1/proactive`, { to, text: "Your flight is delayed", campaignId: "mg-single", idempotencyKey: key() }, { authorization: `Bearer ${E2E.API_TOKEN}` });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { status: string; conversationId: string };
    expect(answer.status).toBe("queued");
    const [sms] = await until("the alert's SMS", async () => ((await e.tw.sentTo(to)).length > 0 ? e.tw.sentTo(to) : undefined));
    expect(sms).toMatchObject({ body: "Your flight is delayed", messaging_service_sid: SERVICE, from: POOL_NUMBER });
    expect(await e.tw.text(to, "Thanks, rebook me", TO_SERVICE)).toBe(200);
    const conversation = await until("the answer in the alert's conversation", async () => {
      const c = (await e.cx.conversationsOf(to)).find((x) => x.ids.includes(answer.conversationId));
      return c && c.messages.some((m) => m.text === "Thanks, rebook me") ? c : undefined;
    });
    expect(conversation).toMatchObject({ proactive: true, campaignId: "mg-single" });
    expect(await e.cx.conversationsOf(to)).toHaveLength(1);
  });

  it("accepts a batch and sends every alert through the service", async () => {
    const recipients = Array.from({ length: 5 }, () => phone());
    const res = await post(
      `${e.stack.bridgeUrl}/v1/proactive`,
      { campaignId: "mg-batch", messages: recipients.map((to) => ({ to, text: `Gate change for ${to}`, idempotencyKey: key() })) },
      { authorization: `Bearer ${E2E.API_TOKEN}` },
    );
    expect(res.status).toBe(202);
    const batch = (await res.json()) as { batchId: string; accepted: number; refused: unknown[] };
    expect(batch).toMatchObject({ accepted: 5, refused: [] });
    const sms = await until("five alerts", async () => {
      const got = (await e.tw.sent()).filter((m) => recipients.includes(m.to));
      return got.length >= 5 ? got : undefined;
    }, 20_000);
    expect(sms.map((m) => m.messaging_service_sid)).toEqual(Array(5).fill(SERVICE));
    const counts = await until("the batch counts", async () => {
      const status = await json<{ counts: Record<string, number> }>(`${e.stack.bridgeUrl}/v1/proactive/batches/${batch.batchId}`, { headers: { authorization: `Bearer ${E2E.API_TOKEN}` } });
      return (status.counts.sent ?? 0) + (status.counts.delivered ?? 0) === 5 ? status.counts : undefined;
    }, 20_000);
    expect(counts).toMatchObject({ refused: 0, failed: 0, queued: 0 });
  });

  it("sends one SMS when Twilio commits a send only after the bridge stopped waiting", async () => {
    const customer = phone();
    const conversation = await conversationAfter(e, customer, "Can you call me?", TO_SERVICE);
    // Twilio answers after 3.5 s; the bridge waits 2 s, then asks, and asks again after the grace.
    await post(`${e.stack.twilioUrl}/_emu/faults`, { rules: [{ method: "POST", path: "/Messages\\.json$", kind: "slow_commit", delayMs: 3_500, times: 1 }] });
    const { id } = await e.cx.agentReply(conversation, "Calling you in five minutes");
    const receipts = await finalReceipts(e, id!, 20_000);
    // Past the grace and a retry's worth more: still one SMS.
    await sleep(GRACE_MS + 2_000);
    const sms = await e.tw.sentTo(customer);
    expect(sms).toHaveLength(1);
    expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "DELIVERED"]));
    if (mode === "open-messaging") expect(receipts[0]).toMatchObject({ providerMessageId: sms[0]!.sid });
  }, 60_000);
});
