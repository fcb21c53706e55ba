import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import type { Clock } from "../../src/do/storage";
import { DFO_BINDINGS as D } from "../support/bindings";
import { threadOf, useDfoEmulators, worker } from "../support/dfo";
import { inboundFields, phone, postInbound, thread } from "../support/inbound";
import { settle } from "../support/outbound";
import { awakeNumbers } from "../support/awake";

/**
 * contract §8 + §9, WhatsApp in DFO mode: a customer's WhatsApp messages go to their WhatsApp
 * thread on the WhatsApp sender's channel (apart from their SMS thread), with their profile name;
 * agent replies on that channel go from the WhatsApp sender inside the 24-hour window and are
 * refused (failed OUTSIDE_WHATSAPP_WINDOW) outside it, before Twilio; Twilio's 63016 says the same;
 * delivered → delivered, read → seen, in that order; proactive WhatsApp is a template (or free
 * text inside the window only).
 */
const emu = useDfoEmulators();
const WA = D.WHATSAPP_FROM_NUMBER; // whatsapp:+15550007000 → chat_whatsapp
const WA_CHANNEL = "chat_whatsapp";
const MAIN = "+15550001000"; // → chat_main
const HOUR = 3_600_000;
const TEMPLATE_SID = `HX${"0".repeat(31)}1`;

const wa = (number: string) => `whatsapp:${number}`;
const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);
const statuses = (id: string) => (emu.dfo.state.statuses.get(id) ?? []).map((s) => [s.status, s.reason ?? null]);
const regressions = () => [emu.dfo.stats().statusRegressions, [...emu.dfo.state.statuses.values()].flat().filter((s) => s.regression).map((s) => s.regression)];
const idOf = (answer: unknown) => (answer as { idOnExternalPlatform: string }).idOnExternalPlatform;
const reconcileAt = (ms: number) => reconcile(reconcileDeps(env, requireConfig(env)), { now: Date.now() + ms, recheckMs: 600_000 });
const proactive = (body: unknown) =>
  worker("/v1/proactive", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${D.API_TOKEN}` }, body: JSON.stringify(body) });

/** Recipients awake now (quiet hours would defer them); a random start keeps runs' rows apart. */
let awakeSeq = Math.floor(Math.random() * 9_000);
const awakeNumber = () => awakeNumbers()((awakeSeq = (awakeSeq + 1) % 10_000));

/** An agent's reply in the customer's WhatsApp thread that must be refused before Twilio. */
async function expectRefusedOutsideWindow(customer: string, text: string) {
  const reply = await emu.dfo.agentReply({ channelId: WA_CHANNEL, threadId: customer, text });
  expect(reply.status).toBe(200);
  const id = idOf(reply.answer);
  await settle(WA);
  // Its report may have gone before CXone knew the id (the answer was still on its way): the sweep sends it at the latest.
  if (statuses(id).length === 0) await reconcileAt(60_000);
  expect(sentTo(customer)).toEqual([]);
  expect(statuses(id)).toEqual([["failed", "OUTSIDE_WHATSAPP_WINDOW"]]);
}

/** A WhatsApp message from `customer` (whatsapp:+…) posted straight to the bridge, as Twilio signs it, and delivered to DFO. */
async function waInbound(customer: string, over: Record<string, string> = {}) {
  const fields = inboundFields({
    From: customer,
    To: WA,
    Body: "hello on WhatsApp",
    ProfileName: "Ana Gómez",
    WaId: customer.replace(/\D/g, ""),
    MessageType: "text",
    NumSegments: "1",
    ...over,
  });
  expect((await postInbound(fields)).status).toBe(200);
  await thread(customer, WA).deliver();
  return fields;
}

/** A customer who wrote on WhatsApp just now: the bridge's window and the emulated Twilio's are both open. */
async function customerInWindow() {
  const customer = wa(phone());
  await waInbound(customer);
  emu.twilio.setWhatsAppWindow(customer, WA, Date.now());
  return customer;
}

describe("a customer's WhatsApp message in DFO mode", () => {
  it("is posted on the WhatsApp channel in the customer's whatsapp:+ thread, named WhatsApp, with the profile name and the location; their SMS goes to their SMS thread", async () => {
    const number = phone();
    const customer = wa(number);
    const fields = await waInbound(customer, { Body: "", MessageType: "location", Latitude: "37.7749", Longitude: "-122.4194", Label: "Ferry Building" });

    const t = threadOf(emu, WA_CHANNEL, customer)!;
    expect(t, "no thread whatsapp:+… on chat_whatsapp").toBeDefined();
    expect(t.threadName).toMatch(/^WhatsApp/);
    expect(t.endUser).toMatchObject({ idOnExternalPlatform: customer, firstName: "Ana Gómez" });
    expect(t.messages).toHaveLength(1);
    const [m] = t.messages;
    expect(m).toMatchObject({ direction: "inbound", idOnExternalPlatform: fields.MessageSid, authorEndUserIdentity: { idOnExternalPlatform: customer, firstName: "Ana Gómez" } });
    expect(m!.text).toContain("Ferry Building");
    expect(m!.text).toContain("37.7749");
    expect(m!.text).toContain("-122.4194");

    // The same person's SMS to the SMS number: their SMS thread on that number's channel.
    const sms = inboundFields({ From: number, To: MAIN, Body: "and by SMS" });
    expect((await postInbound(sms)).status).toBe(200);
    await thread(number, MAIN).deliver();
    const smsThread = threadOf(emu, "chat_main", number)!;
    expect(smsThread.messages.map((x) => [x.direction, x.text])).toEqual([["inbound", "and by SMS"]]);
    expect(smsThread.threadName).toMatch(/^SMS/);
    expect(smsThread.endUser?.idOnExternalPlatform).toBe(number);

    const mine = [...emu.dfo.state.threads.values()].filter((x) => x.threadId === number || x.threadId === customer);
    expect(mine.map((x) => [x.channelId, x.threadId]).sort()).toEqual([["chat_main", number], [WA_CHANNEL, customer]]);
    // The WhatsApp thread kept only the WhatsApp message.
    expect(threadOf(emu, WA_CHANNEL, customer)!.messages).toHaveLength(1);
  });
});

describe("an agent's reply in a WhatsApp thread", () => {
  it("inside the window is sent once from the WhatsApp sender; delivered then read give delivered then seen", async () => {
    const customer = await customerInWindow();
    const reply = await emu.dfo.agentReply({ channelId: WA_CHANNEL, threadId: customer, text: "Hi Ana, how can I help?" });
    expect(reply.status).toBe(200);
    const id = idOf(reply.answer);
    await settle(WA);
    expect(sentTo(customer).map((m) => [m.from, m.to, m.body, m.content_sid])).toEqual([[WA, customer, "Hi Ana, how can I help?", null]]);
    const sid = sentTo(customer)[0]!.sid;

    await emu.twilio.sendStatus(sid, "sent");
    expect(statuses(id)).toEqual([]); // no SENT in this mode
    await emu.twilio.sendStatus(sid, "delivered");
    expect(statuses(id)).toEqual([["delivered", null]]);
    await emu.twilio.sendStatus(sid, "read");
    expect(statuses(id)).toEqual([["delivered", null], ["seen", null]]);
    expect(regressions()).toEqual([0, []]);
    // Still one send.
    expect(sentTo(customer)).toHaveLength(1);
  });

  it("gives delivered then seen when Twilio's read comes before its delivered", async () => {
    const customer = await customerInWindow();
    const reply = await emu.dfo.agentReply({ channelId: WA_CHANNEL, threadId: customer, text: "Read me" });
    const id = idOf(reply.answer);
    await settle(WA);
    const [sent] = sentTo(customer);
    expect(sent).toMatchObject({ from: WA, body: "Read me" });

    await emu.twilio.sendStatus(sent!.sid, "read");
    expect(statuses(id)).toEqual([["delivered", null], ["seen", null]]);
    await emu.twilio.sendStatus(sent!.sid, "delivered");
    expect(statuses(id)).toEqual([["delivered", null], ["seen", null]]);
    expect(regressions()).toEqual([0, []]);
  });

  it("to a customer who never wrote is refused before Twilio: failed OUTSIDE_WHATSAPP_WINDOW", async () => {
    const customer = wa(phone());
    // Twilio's window is open: if the bridge sent it, the emulated Twilio would take it.
    emu.twilio.setWhatsAppWindow(customer, WA, Date.now());
    await expectRefusedOutsideWindow(customer, "Are you there?");
  });

  it("that Twilio fails with 63016 (its window closed, the bridge's open) is reported failed OUTSIDE_WHATSAPP_WINDOW", async () => {
    const customer = wa(phone());
    // Straight to the bridge: the emulated Twilio never saw this customer write, so its window is closed.
    await waInbound(customer);
    const reply = await emu.dfo.agentReply({ channelId: WA_CHANNEL, threadId: customer, text: "This will bounce" });
    const id = idOf(reply.answer);
    await settle(WA);
    const [sent] = sentTo(customer);
    expect(sent, "the bridge's window was open: the reply should have gone to Twilio").toBeDefined();
    // Twilio fails it a moment after accepting it (its callback comes after the API's answer).
    await vi.waitFor(() => expect(sent!.status).toBe("failed"), { timeout: 2_000, interval: 10 });
    expect(sent!.error_code).toBe(63016);
    // Through Twilio's callback alone (no sweep): the receipt is the callback's news.
    await vi.waitFor(() => expect(statuses(id)).toEqual([["failed", "OUTSIDE_WHATSAPP_WINDOW"]]), { timeout: 3_000, interval: 20 });
    expect(sentTo(customer)).toHaveLength(1);
  });
});

describe("a proactive WhatsApp alert in DFO mode", () => {
  it("is a template: posted into the WhatsApp thread naming it and its parameters, sent by ContentSid; the answer opens the window for the agent", async () => {
    const to = awakeNumber();
    const customer = wa(to);
    const res = await proactive({
      to,
      channel: "whatsapp",
      template: { name: "flight_update", parameters: [{ type: "text", text: "AB123" }, { type: "text", text: "18:40" }] },
      campaignId: "irops-wa",
      idempotencyKey: `wa-${to}-${crypto.randomUUID()}`,
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(answer.status).toBe("queued");

    const t = threadOf(emu, WA_CHANNEL, customer)!;
    expect(t, "no thread whatsapp:+… on chat_whatsapp").toBeDefined();
    expect(t.threadName).toMatch(/^WhatsApp/);
    expect(t.messages).toHaveLength(1);
    expect(t.messages[0]).toMatchObject({ direction: "outbound", idOnExternalPlatform: answer.messageId, text: "[WhatsApp template flight_update] {{1}} AB123 · {{2}} 18:40" });
    expect(t.messages[0]!.customFields).toEqual(expect.arrayContaining([{ ident: "campaignId", value: "irops-wa" }]));
    // Nothing of it on the SMS side.
    expect(threadOf(emu, "chat_main", to)).toBeUndefined();

    await settle(WA);
    const [template] = sentTo(customer);
    expect(sentTo(customer)).toHaveLength(1);
    expect(template).toMatchObject({ from: WA, to: customer, content_sid: TEMPLATE_SID, content_variables: { "1": "AB123", "2": "18:40" } });
    await emu.twilio.sendStatus(template!.sid, "delivered");
    expect(statuses(answer.messageId)).toEqual([["delivered", null]]);

    // The customer answers on WhatsApp (through Twilio, which opens its window): same thread.
    const answered = await emu.twilio.sendInbound({ from: customer, to: WA, body: "Can I rebook?", profileName: "Kenji" });
    expect(answered.status).toBe(200);
    await thread(customer, WA).deliver();
    const after = threadOf(emu, WA_CHANNEL, customer)!;
    expect(after.messages.map((m) => [m.direction, m.text])).toEqual([
      ["outbound", "[WhatsApp template flight_update] {{1}} AB123 · {{2}} 18:40"],
      ["inbound", "Can I rebook?"],
    ]);
    expect(after.endUser).toMatchObject({ idOnExternalPlatform: customer, firstName: "Kenji" });

    // Now free text from the agent goes out.
    const reply = await emu.dfo.agentReply({ channelId: WA_CHANNEL, threadId: customer, text: "Yes, on the 20:15." });
    expect(reply.status).toBe(200);
    const replyId = idOf(reply.answer);
    await settle(WA);
    expect(sentTo(customer).map((m) => [m.from, m.body, m.content_sid])).toEqual([
      [WA, "Flight AB123 is delayed. New departure: 18:40.", TEMPLATE_SID],
      [WA, "Yes, on the 20:15.", null],
    ]);
    await emu.twilio.sendStatus(sentTo(customer)[1]!.sid, "delivered");
    expect(statuses(replyId)).toEqual([["delivered", null]]);
    expect(regressions()).toEqual([0, []]);
  });

  it("as free text to a customer outside the window is refused: nothing posted to DFO, nothing sent", async () => {
    const to = awakeNumber();
    const customer = wa(to);
    const callsBefore = emu.dfo.state.calls["POST /dfo/3.0/channels/:channelId/messages"] ?? 0;
    const res = await proactive({ to, channel: "whatsapp", text: "Your flight is delayed", campaignId: "irops-wa", idempotencyKey: `wa-free-${to}-${crypto.randomUUID()}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "refused", reason: "outside_whatsapp_window", messageId: null, conversationId: null });
    expect(threadOf(emu, WA_CHANNEL, customer)).toBeUndefined();
    expect(emu.dfo.state.calls["POST /dfo/3.0/channels/:channelId/messages"] ?? 0).toBe(callsBefore);
    await settle(WA);
    expect(sentTo(customer)).toEqual([]);
  });

  it("as free text to a customer inside the window is posted and sent", async () => {
    const to = awakeNumber();
    const customer = wa(to);
    await emu.twilio.sendInbound({ from: customer, to: WA, body: "Any news on my flight?", profileName: "Priya" });
    await thread(customer, WA).deliver();
    const res = await proactive({ to, channel: "whatsapp", text: "Boarding starts at gate 12", campaignId: "irops-wa", idempotencyKey: `wa-in-${to}-${crypto.randomUUID()}` });
    const answer = (await res.json()) as { status: string; messageId: string };
    expect(answer.status).toBe("queued");
    expect(threadOf(emu, WA_CHANNEL, customer)!.messages.map((m) => [m.direction, m.text])).toEqual([
      ["inbound", "Any news on my flight?"],
      ["outbound", "Boarding starts at gate 12"],
    ]);
    await settle(WA);
    expect(sentTo(customer).map((m) => [m.from, m.body, m.content_sid])).toEqual([[WA, "Boarding starts at gate 12", null]]);
  });
});

// Last in the file: it moves the WhatsApp sender's clock a day on, which every later send from it would feel.
describe("an agent's reply to a customer who wrote more than 24 hours ago", () => {
  it("is refused before Twilio: failed OUTSIDE_WHATSAPP_WINDOW", async () => {
    const customer = wa(phone());
    await waInbound(customer);
    // Twilio's window is kept open: only the bridge may refuse this one.
    emu.twilio.setWhatsAppWindow(customer, WA, Date.now());
    await runInDurableObject(env.SENDER.getByName(WA), (i) => (i as unknown as { clock: Clock }).clock.skipTo(Date.now() + 24 * HOUR + 60_000));
    await expectRefusedOutsideWindow(customer, "Sorry for the wait");
  });
});
