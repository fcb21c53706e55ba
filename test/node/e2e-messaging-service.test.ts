import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmuConversation as Conversation } from "../../emulators/cxone/state";
import type { EmulatedMessage as Sent } from "../../emulators/twilio/messages";
import { E2E, json, startE2E, until } from "./stack";

/**
 * A deployment whose only sender is a Messaging Service (TWILIO_MESSAGING_SERVICE_SID set, no
 * TWILIO_FROM_NUMBER), under `wrangler dev` with the real clock: customers' texts with Twilio's
 * empty fields, agent replies pushed against createdTime order, single and batch alerts, and a
 * send Twilio commits after the bridge stopped waiting (issue 10, items 1, 2, 3 and 6).
 */
const SERVICE = `MG${"7".repeat(32)}`;
/** The number the Twilio emulator's Messaging Service sends from (its pool of one). */
const POOL_NUMBER = "+15005550006";
const GRACE_MS = 3_000;

let stack: Awaited<ReturnType<typeof startE2E>>;
beforeAll(async () => {
  stack = await startE2E(20_787, {
    TWILIO_MESSAGING_SERVICE_SID: SERVICE,
    TWILIO_FROM_NUMBER: "",
    // Quiet hours have their own tests; alerts here must go whatever the hour.
    QUIET_HOURS: "00:00-00:00",
    LOST_ANSWER_GRACE_MS: String(GRACE_MS),
  });
}, 120_000);
afterAll(async () => {
  await stack?.cleanup();
});

let n = 0;
const phone = () => `+1646555${String(1000 + ++n)}`;
const sid = () => `SM${crypto.randomUUID().replace(/-/g, "")}`;
const key = () => `e2e-mg-${crypto.randomUUID()}`;
const sent = () => json<Sent[]>(`${stack.twilioUrl}/_emu/messages`);
const sentTo = async (to: string) => (await sent()).filter((m) => m.to === to);
const conversationsOf = async (customer: string) => (await json<Conversation[]>(`${stack.cxoneUrl}/_emu/conversations`)).filter((c) => c.customer === customer);
const reportsOf = async (id: string) => ((await json<Record<string, { body: { status: string; deliveryReceipt: { providerMessageId?: string } } }[]>>(`${stack.cxoneUrl}/_emu/reports`))[id] ?? []).map((r) => r.body);
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** The customer's conversation, once their first text is in it. */
const firstConversation = async (customer: string) =>
  (await until("the conversation", async () => {
    const found = await conversationsOf(customer);
    return found[0]?.messages.length ? found : undefined;
  }))[0]!;

/** Fields Twilio posts empty when it has no value for them. */
const EMPTY = { NumSegments: "", FromZip: "", FromCity: "", OptOutType: "" };

/** A customer's text to the service's number, signed by Twilio's own package. */
async function text(from: string, body: string, extra: Record<string, string> = {}) {
  const url = `${stack.bridgeUrl}/twilio/inbound`;
  const fields = {
    MessageSid: sid(),
    AccountSid: E2E.TWILIO_ACCOUNT_SID,
    MessagingServiceSid: SERVICE,
    From: from,
    To: POOL_NUMBER,
    Body: body,
    NumMedia: "0",
    ApiVersion: "2010-04-01",
    ...extra,
  };
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(E2E.TWILIO_AUTH_TOKEN, url, fields) },
    body: new URLSearchParams(fields).toString(),
  });
  return res.status;
}

async function pushReply(conversationId: string, to: string, body: string, createdTime: string) {
  const id = `e2e-reply-${crypto.randomUUID()}`;
  const res = await post(`${stack.cxoneUrl}/_emu/agent-reply`, { conversationId, id, body, createdTime, push: true, from: null });
  expect(res.status).toBe(201);
  expect(((await res.json()) as { pushed?: number }).pushed).toBe(200);
  return id;
}

describe("a Messaging Service-only deployment under wrangler dev", () => {
  it("takes a text whose optional fields Twilio left empty, and threads it", async () => {
    const customer = phone();
    expect(await text(customer, "Hi, is anyone there?", EMPTY)).toBe(200);
    const conversation = await firstConversation(customer);
    expect(conversation.messages.map((m) => m.text)).toEqual(["Hi, is anyone there?"]);
  });

  it("sends replies pushed against createdTime order in that order, on the real clock", async () => {
    const customer = phone();
    expect(await text(customer, "Hi, where is my parcel?")).toBe(200);
    const conversation = await firstConversation(customer);
    const now = Date.now();
    const b = await pushReply(conversation.id, customer, "B: it left the depot", new Date(now).toISOString());
    await new Promise((r) => setTimeout(r, 40));
    const a = await pushReply(conversation.id, customer, "A: let me check", new Date(now - 1_000).toISOString());
    // Real time, nobody driving the alarms: both go out, A first, through the service.
    const sms = await until("both replies", async () => {
      const got = await sentTo(customer);
      return got.length >= 2 ? got : undefined;
    }, 15_000);
    expect(sms.map((m) => m.body)).toEqual(["A: let me check", "B: it left the depot"]);
    expect(sms.map((m) => m.messaging_service_sid)).toEqual([SERVICE, SERVICE]);
    for (const [id, m] of [[a, sms[0]!], [b, sms[1]!]] as const) {
      const reports = await until(`the SENT report of ${id}`, async () => ((await reportsOf(id)).length > 0 ? reportsOf(id) : undefined));
      expect(reports[0]).toMatchObject({ status: "SENT", deliveryReceipt: { providerMessageId: m.sid } });
    }
  });

  it("sends a single alert through the service and threads the answer to the service's number into it", async () => {
    const to = phone();
    const res = await post(`${stack.bridgeUrl}/v1/proactive`, { to, text: "Your flight is delayed", campaignId: "mg-single", idempotencyKey: key() }, { authorization: `Bearer ${E2E.API_TOKEN}` });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { status: string; conversationId: string };
    expect(answer.status).toBe("queued");
    const [sms] = await until("the alert's SMS", async () => ((await sentTo(to)).length > 0 ? sentTo(to) : undefined));
    expect(sms).toMatchObject({ body: "Your flight is delayed", messaging_service_sid: SERVICE, from: POOL_NUMBER });
    expect(await text(to, "Thanks, rebook me")).toBe(200);
    const conversation = await until("the answer in the alert's conversation", async () => {
      const c = (await conversationsOf(to)).find((x) => x.id === answer.conversationId);
      return c && c.messages.some((m) => m.text === "Thanks, rebook me") ? c : undefined;
    });
    expect(conversation.proactive).toBe(true);
    expect(await conversationsOf(to)).toHaveLength(1);
  });

  it("accepts a batch and sends every alert through the service", async () => {
    const recipients = Array.from({ length: 5 }, () => phone());
    const res = await post(
      `${stack.bridgeUrl}/v1/proactive`,
      { campaignId: "mg-batch", messages: recipients.map((to) => ({ to, text: `Gate change for ${to}`, idempotencyKey: key() })) },
      { authorization: `Bearer ${E2E.API_TOKEN}` },
    );
    expect(res.status).toBe(202);
    const batch = (await res.json()) as { batchId: string; accepted: number; refused: unknown[] };
    expect(batch).toMatchObject({ accepted: 5, refused: [] });
    const sms = await until("five alerts", async () => {
      const got = (await sent()).filter((m) => recipients.includes(m.to));
      return got.length >= 5 ? got : undefined;
    }, 20_000);
    expect(sms.map((m) => m.messaging_service_sid)).toEqual(Array(5).fill(SERVICE));
    const counts = await until("the batch counts", async () => {
      const status = await json<{ counts: Record<string, number> }>(`${stack.bridgeUrl}/v1/proactive/batches/${batch.batchId}`, { headers: { authorization: `Bearer ${E2E.API_TOKEN}` } });
      return (status.counts.sent ?? 0) + (status.counts.delivered ?? 0) === 5 ? status.counts : undefined;
    }, 20_000);
    expect(counts).toMatchObject({ refused: 0, failed: 0, queued: 0 });
  });

  it("sends one SMS when Twilio commits a send only after the bridge stopped waiting", async () => {
    const customer = phone();
    expect(await text(customer, "Can you call me?")).toBe(200);
    const conversation = await firstConversation(customer);
    // Twilio answers after 3.5 s; the bridge waits 2 s, then asks, and asks again after the grace.
    await post(`${stack.twilioUrl}/_emu/faults`, { rules: [{ method: "POST", path: "/Messages\\.json$", kind: "slow_commit", delayMs: 3_500, times: 1 }] });
    const id = await pushReply(conversation.id, customer, "Calling you in five minutes", new Date().toISOString());
    const reports = await until("the SENT report", async () => ((await reportsOf(id)).length > 0 ? reportsOf(id) : undefined), 20_000);
    // Past the grace and a retry's worth more: still one SMS.
    await new Promise((r) => setTimeout(r, GRACE_MS + 2_000));
    const sms = await sentTo(customer);
    expect(sms).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: "SENT", deliveryReceipt: { providerMessageId: sms[0]!.sid } });
  }, 60_000);
});
