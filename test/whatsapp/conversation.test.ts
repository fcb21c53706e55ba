import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { worstWindow } from "../../src/domain/outbound/bucket";
import type { Clock } from "../../src/do/storage";
import { TEST_BINDINGS as B } from "../support/bindings";
import { step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

/**
 * WhatsApp through Twilio in open-messaging mode (contract §9): the customer's own WhatsApp
 * conversation, the 24-hour window, one message per bucket slot, read receipts.
 */
const emu = useEmulators();
const push = pusher(emu);
const wa = (number: string) => `whatsapp:${number}`;
/** A WhatsApp sender of the test's own: its object's clock and bucket are not shared. */
const waSender = () => wa(senderNumber());
const HOUR = 3600_000;

/** The customer writes on WhatsApp; the text reaches CXone. Twilio's side opens its window too. */
async function customerWrites(customer: string, business: string, over: Record<string, string> = {}) {
  const res = await postInbound(inboundFields({ From: customer, To: business, Body: "hola", NumSegments: "1", ProfileName: "Ana Lima", WaId: customer.slice(10), ...over }));
  expect(res.status).toBe(200);
  await thread(customer, business).deliver(true);
  emu.twilio.setWhatsAppWindow(customer, business, Date.now());
  return conversationOf(customer)!;
}
const conversationOf = (address: string) => [...emu.cxone.state.conversations.values()].find((c) => c.customer === address);
const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => [r.body.status, r.body.deliveryReceipt.errorCode ?? null]);
const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);
const moveClock = (key: string, at: number) => runInDurableObject(sender(key), (instance) => (instance as unknown as { clock: Clock }).clock.skipTo(at));

describe("WhatsApp, inbound", () => {
  it("puts a WhatsApp text in the customer's WhatsApp conversation under their profile name, apart from their SMS one", async () => {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business, { Latitude: "38.7223", Longitude: "-9.1393", Label: "Lisboa" });
    expect(await postInbound(inboundFields({ From: number, Body: "sms hello" }))).toHaveProperty("status", 200);
    await thread(number).deliver(true);

    expect(conversation).toMatchObject({ channelType: "whatsapp", customer: wa(number), displayName: "Ana Lima", properties: { business_number: business } });
    expect(conversation.messages[0]!.text).toBe("hola\n[location: 38.7223,-9.1393 Lisboa]");
    expect(conversation.messages[0]!.metadata).toMatchObject({ profile_name: "Ana Lima", from: wa(number), to: business, segments: 1 });
    const sms = conversationOf(number)!;
    expect(sms.channelType).toBe("sms");
    expect(sms.id).not.toBe(conversation.id);
    expect(emu.cxone.state.conversations.size).toBe(2);
  });

  it.each([
    ["a profile name too long to show", { ProfileName: "x".repeat(300) }],
    ["a location that is no number", { Latitude: "north", Longitude: "west" }],
    ["a button reply", { ButtonText: "Rebook", ButtonPayload: "rebook-AB123" }],
    ["an unknown WhatsApp field", { ReferralCtwaClid: "abc", MessageType: "interactive" }],
    ["an empty body with media", { Body: "", NumMedia: "1", MediaUrl0: "https://api.twilio.com/media/1", MediaContentType0: "image/jpeg" }],
  ])("takes a signed WhatsApp text with %s (never refused for an optional field)", async (_case, over) => {
    const number = phone();
    await customerWrites(wa(number), waSender(), over);
    expect(conversationOf(wa(number))!.messages).toHaveLength(1);
  });

  it.each([
    ["WhatsApp from, SMS to", (n: string) => ({ From: wa(n), To: B.TWILIO_FROM_NUMBER }), "To"],
    ["SMS from, WhatsApp to", (n: string) => ({ From: n, To: B.WHATSAPP_FROM_NUMBER }), "To"],
    ["a WhatsApp address without E.164", () => ({ From: "whatsapp:+0123", To: B.WHATSAPP_FROM_NUMBER }), "From"],
    ["a WhatsApp address with spaces", () => ({ From: "whatsapp: +14155550100", To: B.WHATSAPP_FROM_NUMBER }), "From"],
  ])("refuses %s with a 400 naming the field, storing nothing", async (_case, fields, field) => {
    const over = fields(phone());
    const res = await postInbound(inboundFields(over));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(field);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE customer = ?", over.From)).toBe(0);
  });
});

describe("WhatsApp, agent replies", () => {
  it("sends a reply inside the window from the conversation's WhatsApp sender, one message whatever its length", async () => {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business);
    // CXone may name the channel and leave the number bare: it is still WhatsApp.
    const item = outboundItem({ conversationId: conversation.id, to: number, channel: "WHATSAPP", body: "é".repeat(1_000) });
    expect((await push(item)).status).toBe(200);
    await settle(business);
    const [sent] = sentTo(wa(number));
    expect(sent).toMatchObject({ from: business, body: item.body, num_segments: "1" });
    expect(sentTo(number)).toHaveLength(0);
    expect(await env.DB.prepare("SELECT segments, encoding, sender FROM messages WHERE cxone_message_id = ?").bind(item.id).first()).toEqual({ segments: 1, encoding: "whatsapp", sender: business });
    expect(reports(item.id)).toEqual([["SENT", null]]);
  });

  it("sends at 23:59 after the customer's last message and refuses at 24:01, before Twilio, with OUTSIDE_WHATSAPP_WINDOW", async () => {
    const number = phone();
    const business = waSender();
    const wroteAt = Date.now();
    const conversation = await customerWrites(wa(number), business);
    const reply = (body: string) => outboundItem({ conversationId: conversation.id, to: wa(number), body });

    await moveClock(business, wroteAt + 23 * HOUR + 59 * 60_000);
    const inside = reply("still inside");
    await push(inside);
    await settle(business);
    expect(sentTo(wa(number)).map((m) => m.body)).toEqual(["still inside"]);

    await moveClock(business, wroteAt + 24 * HOUR + 60_000);
    const outside = reply("too late");
    await push(outside);
    await settle(business);
    expect(sentTo(wa(number)).map((m) => m.body)).toEqual(["still inside"]);
    expect(reports(outside.id)).toEqual([["FAILED", "OUTSIDE_WHATSAPP_WINDOW"]]);
    expect(await env.DB.prepare("SELECT state, error_code AS code FROM messages WHERE cxone_message_id = ?").bind(outside.id).first()).toEqual({ state: "failed", code: "OUTSIDE_WHATSAPP_WINDOW" });
  });

  it("refuses a reply to a customer who never wrote to that sender; their writing to another sender does not count", async () => {
    const number = phone();
    await customerWrites(wa(number), waSender());
    const other = waSender();
    const item = outboundItem({ to: wa(number), from: other, body: "hello?" });
    await push(item);
    await settle(other);
    expect(sentTo(wa(number))).toHaveLength(0);
    expect(reports(item.id)).toEqual([["FAILED", "OUTSIDE_WHATSAPP_WINDOW"]]);
  });

  it("reports Twilio's 63016 as OUTSIDE_WHATSAPP_WINDOW", async () => {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business);
    // Twilio's side holds the window closed (e.g. its clock and ours disagree): it fails the send.
    emu.twilio.setWhatsAppWindow(wa(number), business, null);
    const item = outboundItem({ conversationId: conversation.id, to: wa(number), body: "hi" });
    await push(item);
    await settle(business);
    expect(sentTo(wa(number))).toHaveLength(1);
    await expect.poll(() => reports(item.id)).toEqual([["SENT", null], ["FAILED", "OUTSIDE_WHATSAPP_WINDOW"]]);
  });

  /** An agent's reply inside the window, sent: its CXone item, its sender and its SID. */
  async function sentReply(body: string) {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business);
    const item = outboundItem({ conversationId: conversation.id, to: wa(number), body });
    await push(item);
    await settle(business);
    return { item, business, sid: sentTo(wa(number))[0]!.sid };
  }

  it("reports READ after DELIVERED when the customer reads it, and never moves back", async () => {
    const { item, sid } = await sentReply("your seat is 12A");
    await emu.twilio.sendStatus(sid, "read");
    await emu.twilio.sendStatus(sid, "delivered");
    await emu.twilio.sendStatus(sid, "sent");
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
    expect(emu.cxone.state.reportRegressions).toBe(0);
  });

  it.each([
    ["the delivered callback comes after", "after"],
    ["no other callback comes", "never"],
    ["delivered and reported before", "before"],
  ])("reports READ within its report's lease when the read callback's object dies while CXone hangs, %s (found by the soak)", async (_case, delivered) => {
    const { item, business, sid } = await sentReply("gate B12");
    if (delivered === "before") {
      await emu.twilio.sendStatus(sid, "delivered");
      expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    }
    // The read callback finishes the delivery if no callback did, and CXone hangs on its first
    // report. The Worker restarts right then: Twilio never hears back, and does not send the read
    // again.
    emu.cxone.faults.add({ method: "PUT", path: "^/api/v2/open-messaging/messages/", kind: "timeout", delayMs: 10_000, times: 1 });
    const reading = emu.twilio.sendStatus(sid, "read").catch(() => 0);
    await vi.waitFor(() => expect(emu.cxone.faults.fired.timeout).toBe(1));
    await abortAllDurableObjects();
    await reading;
    if (delivered === "after") await emu.twilio.sendStatus(sid, "delivered");
    // Time passes to the hung report's lease (a minute): the sender's alarm sends what is left. An
    // idle sender's only other wake is days away (pruning), so the restart must not take this one.
    for (let i = 0; i < 10 && reports(item.id).length < 3; i++) await step(sender(business));
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
    const skipped = await runInDurableObject(sender(business), (instance) => (instance as unknown as { clock: Clock }).clock.now() - Date.now());
    expect(skipped).toBeLessThan(2 * 60_000);
  });

  it("counts WhatsApp messages, not segments, against WHATSAPP_MPS: 40 long replies at 20/s", async () => {
    const business = waSender();
    const customers = Array.from({ length: 40 }, () => wa(phone()));
    for (const customer of customers) {
      await sender(business).openWindow(customer, Date.now());
      emu.twilio.setWhatsAppWindow(customer, business, Date.now());
    }
    for (const to of customers) await push(outboundItem({ to, from: business, body: "x".repeat(700) }));
    await settle(business);
    const log = await sender(business).dispatchLog();
    expect(log).toHaveLength(40);
    expect(log.every((s) => s.segments === 1)).toBe(true);
    expect(worstWindow(log, 20)).toBeLessThanOrEqual(20);
    // 40 messages at 20 a second take about 2 s; counted as their 5 segments each, 9.75 s. The gaps
    // of 50 ms are slept inline on the real clock (not stepped), and on a loaded machine the 40
    // took 5.5 s once.
    expect(log.at(-1)!.at - log[0]!.at).toBeLessThan(8_000);
  });

  it.each([
    ["channel SMS to a WhatsApp address", (n: string) => ({ to: wa(n), channel: "SMS" }), "channel"],
    ["a WhatsApp reply from an SMS number", (n: string) => ({ to: wa(n), from: "+15550001000" }), "from"],
    ["a WhatsApp reply through a Messaging Service", (n: string) => ({ to: n, channel: "WHATSAPP", from: `MG${"5".repeat(32)}` }), "from"],
    ["an SMS reply from a WhatsApp sender", (n: string) => ({ to: n, from: B.WHATSAPP_FROM_NUMBER }), "from"],
    ["a channel CXone does not have", (n: string) => ({ to: n, channel: "whatsapp" }), "channel"],
  ])("refuses %s with a 400 naming the field", async (_case, over, field) => {
    const res = await push(outboundItem(over(phone())));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(field);
  });

  it("refuses a body over 1,600 characters with a 400, sending nothing", async () => {
    const item = outboundItem({ to: wa(phone()), from: waSender(), body: "x".repeat(1_601) });
    const res = await push(item);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("body");
    expect(sentTo(item.to as string)).toHaveLength(0);
  });

  it("a STOP on WhatsApp suppresses the customer for that sender only: SMS replies still go", async () => {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business, { Body: "STOP" });
    expect(conversation.messages[0]!.metadata).toMatchObject({ opt_out: "stop" });
    const item = outboundItem({ conversationId: conversation.id, to: wa(number), body: "are you sure?" });
    await push(item);
    await settle(business);
    expect(sentTo(wa(number))).toHaveLength(0);
    expect(reports(item.id)).toEqual([["FAILED", "OPTED_OUT"]]);

    const smsSender = senderNumber();
    await push(outboundItem({ to: number, from: smsSender, body: "by SMS" }));
    await settle(smsSender);
    expect(sentTo(number)).toHaveLength(1);
  });

  it("takes a WhatsApp reply from the poller's WHATSAPP feed", async () => {
    const number = phone();
    const business = waSender();
    const conversation = await customerWrites(wa(number), business);
    await emu.cxone.agentReply({ conversationId: conversation.id, body: "polled on WhatsApp" });
    expect(emu.cxone.state.feed.at(-1)).toMatchObject({ channel: "WHATSAPP", to: wa(number), from: business });
    const result = await env.POLLER.getByName("poller").tick();
    expect(result.whatsappCursor).toBeTruthy();
    await settle(business);
    expect(sentTo(wa(number)).map((m) => m.body)).toEqual(["polled on WhatsApp"]);
  });
});
