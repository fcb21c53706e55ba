import { describe, expect, it } from "vitest";
import { createCxoneEmulator } from "../../emulators/cxone/app";

/**
 * The open-messaging CXone emulator carrying WhatsApp next to SMS (contract §4, §9): a customer's
 * WhatsApp conversation is its own, its agent replies are WHATSAPP items in a feed of their own
 * (with their own cursor), and a READ receipt comes after DELIVERED.
 */
const ORIGIN = "https://cxone.test";
const PHONE = "+14155550100";
const WA = `whatsapp:${PHONE}`;
const WA_SENDER = "whatsapp:+15550001000";
const SMS_SENDER = "+15550002000";

type Pushed = { url: string; auth: string | null; body: Record<string, unknown> };

function emulator() {
  const pushed: Pushed[] = [];
  const emu = createCxoneEmulator({
    clientId: "id",
    clientSecret: "secret",
    bridgeUrl: "https://bridge.example",
    webhookSecret: "push-secret",
    fetch: async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      pushed.push({ url: req.url, auth: req.headers.get("authorization"), body: (await req.json()) as Record<string, unknown> });
      return new Response(null, { status: 200 });
    },
  });
  let token: string | undefined;
  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    token ??= (
      (await (
        await emu.app.fetch(
          new Request(`${ORIGIN}/auth/token`, { method: "POST", headers: { authorization: `Basic ${btoa("id:secret")}` }, body: "grant_type=client_credentials" }),
        )
      ).json()) as { access_token: string }
    ).access_token;
    const res = await emu.app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  }
  const emuGet = async (path: string) => (await emu.app.fetch(new Request(`${ORIGIN}/_emu/${path}`))).json() as Promise<any>;
  return { emu, api, emuGet, pushed };
}

const conversation = (channel: "sms" | "whatsapp", over: Record<string, unknown> = {}, participant: Record<string, unknown> = {}) => ({
  channel_type: channel,
  initiated_by: "customer",
  direction: "inbound",
  participants: [
    channel === "whatsapp"
      ? { role: "customer", address: WA, address_type: "whatsapp", display_name: "Ana", ...participant }
      : { role: "customer", address: PHONE, address_type: "phone", ...participant },
  ],
  routing: { strategy: "agent" },
  status: "active",
  properties: { business_number: channel === "whatsapp" ? WA_SENDER : SMS_SENDER },
  ...over,
});

const find = (channel: string, address: string) =>
  `/api/v2/conversations?${new URLSearchParams({ channel_type: channel, participant_address: address, status: "active" })}`;
const poll = (channel: string, pageSize: number, cursor?: string) =>
  `/api/v2/open-messaging/messages?${new URLSearchParams({ channel, direction: "OUTBOUND", pageSize: String(pageSize), ...(cursor ? { cursor } : {}) })}`;
const report = (status: string) => ({ status, deliveryReceipt: { status, timestamp: "2025-01-01T00:00:01Z", providerMessageId: "SM1" } });

describe("CXone emulator: WhatsApp conversations next to SMS ones", () => {
  it("creates and finds a customer's WhatsApp conversation apart from their SMS one, keeping the display name", async () => {
    const { api, emu, emuGet } = emulator();
    const sms = await api("POST", "/api/v2/conversations", conversation("sms"), { "x-idempotency-key": "k-sms" });
    const wa = await api("POST", "/api/v2/conversations", conversation("whatsapp"), { "x-idempotency-key": "k-wa" });
    expect(sms).toMatchObject({ status: 201, json: { id: expect.any(String), status: "active" } });
    expect(wa).toMatchObject({ status: 201, json: { id: expect.any(String), status: "active" } });
    expect(wa.json.id).not.toBe(sms.json.id);

    expect((await api("GET", find("whatsapp", WA))).json).toEqual({ items: [{ id: wa.json.id, status: "active", archived: false }] });
    expect((await api("GET", find("sms", PHONE))).json).toEqual({ items: [{ id: sms.json.id, status: "active", archived: false }] });
    // Each channel finds only its own kind of conversation.
    expect((await api("GET", find("whatsapp", "whatsapp:+14155550199"))).json).toEqual({ items: [] });

    expect(emu.conversation(wa.json.id)).toMatchObject({ channelType: "whatsapp", customer: WA, displayName: "Ana", properties: { business_number: WA_SENDER } });
    expect(emu.conversation(sms.json.id)).toMatchObject({ channelType: "sms", customer: PHONE });
    expect(emu.conversation(sms.json.id)).not.toHaveProperty("displayName");
    expect((await emuGet(`conversations/${wa.json.id}`)).displayName).toBe("Ana");
    // The same key again is the same conversation.
    expect((await api("POST", "/api/v2/conversations", conversation("whatsapp"), { "x-idempotency-key": "k-wa" })).json.id).toBe(wa.json.id);
    expect(emu.conversationsOf(WA)).toHaveLength(1);
  });

  it("takes a display name on an SMS conversation too, and a proactive WhatsApp conversation from a WhatsApp sender", async () => {
    const { api, emu } = emulator();
    const sms = await api("POST", "/api/v2/conversations", conversation("sms", {}, { display_name: "Bo" }), { "x-idempotency-key": "k1" });
    expect(sms.status).toBe(201);
    expect(emu.conversation(sms.json.id)?.displayName).toBe("Bo");
    const proactive = conversation("whatsapp", {
      initiated_by: "business",
      direction: "outbound",
      proactive: true,
      routing: undefined,
      properties: { campaign_id: "flights", business_number: WA_SENDER, gate: "B2" },
    }, { display_name: undefined });
    const res = await api("POST", "/api/v2/conversations", proactive, { "x-idempotency-key": "k2" });
    expect(res.status).toBe(201);
    expect(emu.conversation(res.json.id)).toMatchObject({ channelType: "whatsapp", proactive: true, initiatedBy: "business", customer: WA, properties: { business_number: WA_SENDER } });
    expect(emu.conversation(res.json.id)).not.toHaveProperty("displayName");
  });

  it.each([
    ["a WhatsApp conversation with an E.164 address", conversation("whatsapp", {}, { address: PHONE }), "participants.0.address"],
    ["a WhatsApp address without the plus", conversation("whatsapp", {}, { address: "whatsapp:14155550100" }), "participants.0.address"],
    ["a WhatsApp conversation whose address type is phone", conversation("whatsapp", {}, { address_type: "phone" }), "participants.0.address_type"],
    ["an SMS conversation with a whatsapp: address", conversation("sms", {}, { address: WA }), "participants.0.address"],
    ["an SMS conversation whose address type is whatsapp", conversation("sms", {}, { address_type: "whatsapp" }), "participants.0.address_type"],
    ["a WhatsApp conversation from an SMS number", conversation("whatsapp", { properties: { business_number: SMS_SENDER } }), "properties.business_number"],
    ["an SMS conversation from a WhatsApp sender", conversation("sms", { properties: { business_number: WA_SENDER } }), "properties.business_number"],
    ["a display name that is not text", conversation("whatsapp", {}, { display_name: 7 }), "participants.0.display_name"],
    ["another channel type", conversation("sms", { channel_type: "mms" }), "channel_type"],
  ])("refuses %s: 400 naming the field, nothing created", async (_name, body, field) => {
    const { api, emu } = emulator();
    const res = await api("POST", "/api/v2/conversations", body, { "x-idempotency-key": "k" });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "invalid_request", message: expect.stringContaining(`${field}:`) });
    expect(emu.state.conversations.size).toBe(0);
  });

  it.each([
    ["another channel type", "mms", PHONE],
    ["no channel type", "", PHONE],
    ["a WhatsApp find with an E.164 address", "whatsapp", PHONE],
    ["an SMS find with a whatsapp: address", "sms", WA],
  ])("refuses a find with %s", async (_name, channel, address) => {
    const { api } = emulator();
    expect((await api("GET", find(channel, address))).status).toBe(400);
  });

  it("takes metadata.profile_name (and other unknown metadata) on an appended message; a profile name must be text", async () => {
    const { api, emu } = emulator();
    const { json: conv } = await api("POST", "/api/v2/conversations", conversation("whatsapp"), { "x-idempotency-key": "k" });
    const message = (metadata: Record<string, unknown>) => ({ direction: "inbound", type: "text", content: { text: "hola" }, metadata });
    const metadata = { twilio_message_sid: "SM1", from: WA, to: WA_SENDER, segments: 1, received_at: "2025-01-01T00:00:00Z", profile_name: "Ana", wa_id: "14155550100" };
    const ok = await api("POST", `/api/v2/conversations/${conv.id}/messages`, message(metadata), { "x-idempotency-key": "SM1" });
    expect(ok.status).toBe(201);
    expect(emu.conversation(conv.id)!.messages).toMatchObject([{ id: ok.json.id, text: "hola", metadata }]);
    const bad = await api("POST", `/api/v2/conversations/${conv.id}/messages`, message({ ...metadata, profile_name: 7 }), { "x-idempotency-key": "SM2" });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("metadata.profile_name");
    expect(emu.conversation(conv.id)!.messages).toHaveLength(1);
  });
});

describe("CXone emulator: WhatsApp agent replies in a feed of their own", () => {
  async function twoConversations() {
    const e = emulator();
    const sms = (await e.api("POST", "/api/v2/conversations", conversation("sms"), { "x-idempotency-key": "k-sms" })).json.id as string;
    const wa = (await e.api("POST", "/api/v2/conversations", conversation("whatsapp"), { "x-idempotency-key": "k-wa" })).json.id as string;
    return { ...e, sms, wa };
  }

  it("lists a WhatsApp conversation's reply as a WHATSAPP item, to the whatsapp: address from the WhatsApp sender, in the WHATSAPP feed only", async () => {
    const { api, emu, sms, wa } = await twoConversations();
    const s1 = await emu.agentReply({ conversationId: sms, body: "sms one", id: "s1" });
    const w1 = await emu.agentReply({ conversationId: wa, body: "wa one", id: "w1" });
    const s2 = await emu.agentReply({ conversationId: sms, body: "sms two", id: "s2" });
    expect([s1.id, w1.id, s2.id]).toEqual(["s1", "w1", "s2"]);

    const whatsapp = await api("GET", poll("WHATSAPP", 50));
    expect(whatsapp.status).toBe(200);
    expect(whatsapp.json.items).toEqual([
      { id: "w1", conversationId: wa, direction: "OUTBOUND", channel: "WHATSAPP", to: WA, from: WA_SENDER, body: "wa one", status: "PENDING", createdTime: expect.any(String) },
    ]);
    const smsPage = await api("GET", poll("SMS", 50));
    expect(smsPage.json.items.map((i: { id: string }) => i.id)).toEqual(["s1", "s2"]);
    expect(smsPage.json.items.every((i: { channel: string; to: string; from: string }) => i.channel === "SMS" && i.to === PHONE && i.from === SMS_SENDER)).toBe(true);
    // The reply is in the WhatsApp conversation, and takes reports like any other.
    expect(emu.conversation(wa)!.messages.map((m) => m.id)).toEqual(["w1"]);
    expect((await api("PUT", "/api/v2/open-messaging/messages/w1", report("SENT"))).status).toBe(200);
  });

  it("pages each channel with its own cursor; a cursor of one channel is refused by the other", async () => {
    const { api, emu, sms, wa } = await twoConversations();
    for (const [conversationId, id] of [[sms, "s1"], [wa, "w1"], [sms, "s2"], [wa, "w2"], [wa, "w3"]] as const) await emu.agentReply({ conversationId, body: id, id });

    const s1 = await api("GET", poll("SMS", 1));
    expect(s1.json.items.map((i: { id: string }) => i.id)).toEqual(["s1"]);
    // SMS cursors are what they always were: a position among the SMS items.
    expect(atob(s1.json.cursor)).toBe("pos:1");
    const s2 = await api("GET", poll("SMS", 1, s1.json.cursor));
    expect(s2.json.items.map((i: { id: string }) => i.id)).toEqual(["s2"]);
    expect((await api("GET", poll("SMS", 1, s2.json.cursor))).json).toEqual({ items: [], cursor: null });

    const w1 = await api("GET", poll("WHATSAPP", 2));
    expect(w1.json.items.map((i: { id: string }) => i.id)).toEqual(["w1", "w2"]);
    const w2 = await api("GET", poll("WHATSAPP", 2, w1.json.cursor));
    expect(w2.json.items.map((i: { id: string }) => i.id)).toEqual(["w3"]);
    expect((await api("GET", poll("WHATSAPP", 2, w2.json.cursor))).json).toEqual({ items: [], cursor: null });

    // Crossed cursors: 400 invalid_cursor either way.
    expect(await api("GET", poll("SMS", 1, w1.json.cursor))).toMatchObject({ status: 400, json: { error: "invalid_cursor" } });
    expect(await api("GET", poll("WHATSAPP", 1, s1.json.cursor))).toMatchObject({ status: 400, json: { error: "invalid_cursor" } });
    expect((await api("GET", poll("MMS", 1))).status).toBe(400);

    // A later reply continues its own channel's sequence from the cursor the bridge holds.
    await emu.agentReply({ conversationId: wa, body: "w4", id: "w4" });
    await emu.agentReply({ conversationId: sms, body: "s3", id: "s3" });
    expect((await api("GET", poll("WHATSAPP", 50, w2.json.cursor))).json.items.map((i: { id: string }) => i.id)).toEqual(["w4"]);
    expect((await api("GET", poll("SMS", 50, s2.json.cursor))).json.items.map((i: { id: string }) => i.id)).toEqual(["s3"]);
  });

  it("pushes a WhatsApp reply to the bridge as a WHATSAPP item; the control route and overrides say the channel too", async () => {
    const { emu, emuGet, pushed, wa } = await twoConversations();
    const res = await emu.app.fetch(new Request(`${ORIGIN}/_emu/agent-reply`, { method: "POST", body: JSON.stringify({ conversationId: wa, body: "hola Ana", push: true, id: "w1" }) }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: "w1", pushed: 200 });
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ url: "https://bridge.example/cxone/outbound", auth: "Bearer push-secret" });
    expect(pushed[0]!.body).toMatchObject({ id: "w1", conversationId: wa, channel: "WHATSAPP", to: WA, from: WA_SENDER, body: "hola Ana" });

    // Without a conversation the recipient decides; an explicit channel wins.
    await emu.agentReply({ conversationId: "conv-gone", to: "whatsapp:+14155550177", body: "x", id: "w2" });
    await emu.agentReply({ conversationId: wa, body: "y", id: "w3", channel: "SMS" });
    const feed = (await emuGet("feed")) as { id: string; channel: string }[];
    expect(feed.map((i) => [i.id, i.channel])).toEqual([["w1", "WHATSAPP"], ["w2", "WHATSAPP"], ["w3", "SMS"]]);
  });
});

describe("CXone emulator: READ receipts come after DELIVERED", () => {
  async function reports(statuses: string[]) {
    const { api, emu, emuGet } = emulator();
    emu.state.messageIds.add("m1");
    for (const status of statuses) expect((await api("PUT", "/api/v2/open-messaging/messages/m1", report(status))).status).toBe(200);
    const stats = await emuGet("stats");
    return { regressions: emu.state.reports.get("m1")!.map((r) => r.regression ?? null), count: stats.reportRegressions as number, emu };
  }

  it("takes SENT, DELIVERED, READ in order without a regression (a repeated READ is a retry, not one)", async () => {
    const { regressions, count, emu } = await reports(["SENT", "DELIVERED", "READ", "READ"]);
    expect(regressions).toEqual([null, null, null, null]);
    expect(count).toBe(0);
    expect(emu.state.reports.get("m1")!.map((r) => [r.body.status, r.body.deliveryReceipt.status])).toEqual([["SENT", "SENT"], ["DELIVERED", "DELIVERED"], ["READ", "READ"], ["READ", "READ"]]);
  });

  it("keeps SMS sequences as they were: SENT then a final state, no regression", async () => {
    for (const seq of [["SENT", "DELIVERED"], ["SENT", "UNDELIVERABLE"], ["FAILED"], ["SENT", "SENT", "FAILED"]]) {
      const { regressions, count } = await reports(seq);
      expect(regressions).toEqual(seq.map(() => null));
      expect(count).toBe(0);
    }
  });

  it.each([
    ["READ before DELIVERED", ["SENT", "READ", "DELIVERED"], [null, "READ before DELIVERED", "DELIVERED after READ"], 2],
    ["READ first", ["READ"], ["READ before DELIVERED"], 1],
    ["DELIVERED after READ", ["SENT", "DELIVERED", "READ", "DELIVERED"], [null, null, null, "DELIVERED after READ"], 1],
    ["SENT after READ", ["SENT", "DELIVERED", "READ", "SENT"], [null, null, null, "SENT after READ"], 1],
    ["FAILED after READ", ["SENT", "DELIVERED", "READ", "FAILED"], [null, null, null, "FAILED after READ"], 1],
    ["READ after FAILED", ["SENT", "FAILED", "READ"], [null, null, "READ after FAILED"], 1],
    ["READ after UNDELIVERABLE, even once delivered", ["SENT", "DELIVERED", "UNDELIVERABLE", "READ"], [null, null, null, "READ after UNDELIVERABLE"], 1],
    ["SENT after DELIVERED", ["SENT", "DELIVERED", "SENT"], [null, null, "SENT after DELIVERED"], 1],
  ])("marks and counts %s (the report is still taken)", async (_name, statuses, marked, count) => {
    const result = await reports(statuses);
    expect(result.regressions).toEqual(marked);
    expect(result.count).toBe(count);
    expect(result.emu.state.reportRegressions).toBe(count);
  });

  it("refuses a status CXone does not know", async () => {
    const { api, emu } = emulator();
    emu.state.messageIds.add("m1");
    expect((await api("PUT", "/api/v2/open-messaging/messages/m1", report("SEEN"))).status).toBe(400);
    expect(emu.state.reports.get("m1")).toBeUndefined();
  });
});
