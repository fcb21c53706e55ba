import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { awakeNumbers } from "../support/awake";
import { useEmulators } from "../support/emulators";
import { inboundFields, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, settle } from "../support/outbound";

/**
 * Proactive WhatsApp (contract §9): a template by Content SID outside the window, free text only
 * inside it; the agent sees in CXone which template went out with which parameters.
 */
const emu = useEmulators();
const push = pusher(emu);
const WA = B.WHATSAPP_FROM_NUMBER;
const HX = (n: number) => `HX${"0".repeat(31)}${n}`;
let n = 0;
const awake = () => awakeNumbers()(2_000 + (++n % 3_000));
const key = () => `wa-${crypto.randomUUID()}`;
const flightUpdate = (flight: string, time: string, language?: string) => ({
  name: "flight_update",
  ...(language ? { language } : {}),
  parameters: [
    { type: "text", text: flight },
    { type: "text", text: time },
  ],
});

function proactive(body: unknown) {
  return exports.default.fetch(
    new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` }, body: JSON.stringify(body) }),
  );
}
const batchStatus = async (id: string) =>
  (await (await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/v1/proactive/batches/${id}`, { headers: { authorization: `Bearer ${B.API_TOKEN}` } }))).json()) as { counts: Record<string, number> };
const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);

describe("proactive WhatsApp", () => {
  it("sends a template by ContentSid, shows the agent its name and parameters, and threads the answer into it", async () => {
    const to = awake();
    const res = await proactive({ to, channel: "whatsapp", template: flightUpdate("AB123", "18:40"), campaignId: "storm", idempotencyKey: key() });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(answer.status).toBe("queued");
    await settle(WA);

    const [sent] = sentTo(`whatsapp:${to}`);
    expect(sent).toMatchObject({ from: WA, content_sid: HX(1), content_variables: { "1": "AB123", "2": "18:40" }, body: "Flight AB123 is delayed. New departure: 18:40." });
    const conversation = emu.cxone.state.conversations.get(answer.conversationId)!;
    expect(conversation).toMatchObject({ channelType: "whatsapp", customer: `whatsapp:${to}`, proactive: true, properties: { campaign_id: "storm", business_number: WA } });
    expect(conversation.messages[0]).toMatchObject({
      text: "[WhatsApp template flight_update] {{1}} AB123 · {{2}} 18:40",
      metadata: { whatsapp_template: { name: "flight_update", parameters: ["AB123", "18:40"] } },
    });

    // The customer answers: into the alert's conversation, and now free text may go.
    await postInbound(inboundFields({ From: `whatsapp:${to}`, To: WA, Body: "Can I rebook?", ProfileName: "Ana" }));
    await thread(`whatsapp:${to}`, WA).deliver(true);
    emu.twilio.setWhatsAppWindow(`whatsapp:${to}`, WA, Date.now());
    expect(conversation.messages.map((m) => m.text)).toContain("Can I rebook?");
    const reply = outboundItem({ conversationId: answer.conversationId, to: `whatsapp:${to}`, body: "Yes: 20:15 has seats." });
    await push(reply);
    await settle(WA);
    expect(sentTo(`whatsapp:${to}`).map((m) => m.body)).toEqual(["Flight AB123 is delayed. New departure: 18:40.", "Yes: 20:15 has seats."]);
  });

  it("picks the template's language entry, and answers a repeat of the key with the first answer and no second message", async () => {
    const to = awake();
    const body = { to, channel: "whatsapp", template: flightUpdate("IB31", "07:05", "es"), campaignId: "storm", idempotencyKey: key() };
    const first = await (await proactive(body)).json();
    expect(await (await proactive(body)).json()).toEqual(first);
    await settle(WA);
    expect(sentTo(`whatsapp:${to}`).map((m) => m.content_sid)).toEqual([HX(2)]);
  });

  it.each([
    ["an unknown template", { template: { name: "gate_change", parameters: [] } }, "gate_change"],
    ["a language the template lacks", { template: flightUpdate("AB1", "1", "fr") }, "flight_update:fr"],
  ])("refuses %s with a 400 naming it, creating nothing", async (_case, over, named) => {
    const to = awake();
    const before = emu.cxone.state.conversations.size;
    const res = await proactive({ to, channel: "whatsapp", campaignId: "c", idempotencyKey: key(), ...over });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "unknown_template", message: expect.stringContaining(named) });
    expect(emu.cxone.state.conversations.size).toBe(before);
  });

  it.each([
    ["a template on SMS", { template: flightUpdate("AB1", "1") }, "template"],
    ["text and a template", { channel: "whatsapp", text: "hi", template: flightUpdate("AB1", "1") }, "template"],
    ["an SMS number as WhatsApp sender", { channel: "whatsapp", text: "hi", from: "+15550001000" }, "from"],
    ["a WhatsApp sender on SMS", { text: "hi", from: WA }, "from"],
    ["neither text nor template", { channel: "whatsapp" }, "text"],
    ["a parameter that is not text", { channel: "whatsapp", template: { name: "flight_update", parameters: [{ type: "image", url: "x" }] } }, "template"],
  ])("refuses %s with a 400 naming the field", async (_case, over, field) => {
    const res = await proactive({ to: awake(), campaignId: "c", idempotencyKey: key(), ...over });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(field);
  });

  it("refuses free text outside the window (nothing created, nothing sent), and sends it inside", async () => {
    const to = awake();
    const outside = (await (await proactive({ to, channel: "whatsapp", text: "Your bag is here", campaignId: "c", idempotencyKey: key() })).json()) as Record<string, unknown>;
    expect(outside).toMatchObject({ status: "refused", reason: "outside_whatsapp_window", conversationId: null });

    await postInbound(inboundFields({ From: `whatsapp:${to}`, To: WA, Body: "where is my bag?" }));
    await thread(`whatsapp:${to}`, WA).deliver(true);
    emu.twilio.setWhatsAppWindow(`whatsapp:${to}`, WA, Date.now());
    const inside = (await (await proactive({ to, channel: "whatsapp", text: "Your bag is here", campaignId: "c", idempotencyKey: key() })).json()) as Record<string, unknown>;
    expect(inside.status).toBe("queued");
    await settle(WA);
    expect(sentTo(`whatsapp:${to}`).map((m) => [m.body, m.content_sid])).toEqual([["Your bag is here", null]]);
  });

  it("sends a batch by templates (the batch's, or a recipient's own) and refuses its free text outside the window", async () => {
    const recipients = [awake(), awake(), awake(), awake()];
    const res = await proactive({
      campaignId: "storm",
      channel: "whatsapp",
      template: flightUpdate("AB123", "18:40"),
      messages: [
        { to: recipients[0], idempotencyKey: key() },
        { to: recipients[1], idempotencyKey: key(), template: flightUpdate("AB124", "19:10", "es") },
        { to: recipients[2], idempotencyKey: key() },
        { to: recipients[3], idempotencyKey: key(), text: "free text" },
      ],
    });
    expect(res.status).toBe(202);
    const batch = (await res.json()) as { batchId: string; accepted: number };
    expect(batch.accepted).toBe(4);
    await env.BATCH.getByName(batch.batchId).drain();
    await settle(WA);
    expect(recipients.map((r) => sentTo(`whatsapp:${r}`).map((m) => [m.content_sid, m.content_variables]))).toEqual([
      [[HX(1), { "1": "AB123", "2": "18:40" }]],
      [[HX(2), { "1": "AB124", "2": "19:10" }]],
      [[HX(1), { "1": "AB123", "2": "18:40" }]],
      [],
    ]);
    expect((await batchStatus(batch.batchId)).counts).toMatchObject({ refused: 1 });
  });

  it("refuses a batch naming an unknown template with a 400, launching nothing", async () => {
    const res = await proactive({ campaignId: "c", channel: "whatsapp", messages: [{ to: awake(), idempotencyKey: key(), template: { name: "nope", parameters: [] } }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "unknown_template", message: expect.stringContaining('"nope"') });
  });
});
