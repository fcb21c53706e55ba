import { describe, expect, it } from "vitest";
import { E2E, json, MODES, post, until, useE2E } from "./stack";
import { numbers } from "./twilio-side";

/**
 * contract §9 as a contact center meets it, in both CXone dialects: `wrangler dev`, real HTTP,
 * the emulators as Twilio (playing WhatsApp: its window, templates and read reports) and CXone.
 * A template alert goes out by Content SID, the customer's answer opens the window and lands in
 * the alert's conversation, the agent's free text goes and is read; free text to a customer who
 * never wrote is refused before Twilio.
 */
const WA = "whatsapp:+15550002001";
const TEMPLATE = `HX${"0".repeat(31)}1`;
// Tokyo (UTC+9): the proactive alert is not deferred by quiet hours, which are off here anyway.
const customer = numbers("+8190222");
const key = () => `e2e-wa-${crypto.randomUUID()}`;
const auth = { "content-type": "application/json", authorization: `Bearer ${E2E.API_TOKEN}` };

describe.each(MODES)("%s: WhatsApp under wrangler dev", (mode) => {
  const e = useE2E(mode, 3, { WHATSAPP_FROM_NUMBER: WA, WHATSAPP_TEMPLATES: JSON.stringify({ flight_update: TEMPLATE }), QUIET_HOURS: "00:00-00:00" });
  /** A `flight_update` template alert to `number` on WhatsApp. */
  const flightAlert = (number: string, flight: string, time: string) =>
    post(`${e.stack.bridgeUrl}/v1/proactive`, {
      to: number,
      channel: "whatsapp",
      template: { name: "flight_update", parameters: [{ type: "text", text: flight }, { type: "text", text: time }] },
      campaignId: "irops",
      idempotencyKey: key(),
    }, auth);

  it("sends a template alert, threads the answer into it, and sends the agent's free text, which is read", async () => {
    const number = customer();
    const to = `whatsapp:${number}`;
    const res = await flightAlert(number, "NH7", "21:05");
    expect(res.status).toBe(200);
    const alert = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(alert.status).toBe("queued");
    const [sent] = await until("the template at Twilio", async () => ((await e.tw.sentTo(to)).length > 0 ? e.tw.sentTo(to) : undefined));
    expect(sent).toMatchObject({ from: WA, content_sid: TEMPLATE, content_variables: { "1": "NH7", "2": "21:05" }, body: "Flight NH7 is delayed. New departure: 21:05." });

    // The customer answers on WhatsApp, through Twilio (which opens its window for them).
    await post(`${e.stack.twilioUrl}/_emu/inbound`, { from: to, to: WA, body: "Rebook me please", profileName: "Kenji" });
    const conversation = await until("the answer in the alert's conversation", async () => {
      const c = (await e.cx.conversationsOf(to)).find((x) => x.ids.includes(alert.conversationId));
      return c?.messages.length === 2 ? c : undefined;
    });
    expect(conversation.messages.map((m) => [m.direction, m.text])).toEqual([
      ["outbound", "[WhatsApp template flight_update] {{1}} NH7 · {{2}} 21:05"],
      ["inbound", "Rebook me please"],
    ]);

    const reply = await e.cx.agentReply(conversation, "Done: NH9 at 08:10, seat 14C.");
    expect(reply.status).toBe(200);
    const receipts = await until("the reply's READ receipt", async () => {
      const got = reply.id ? await e.cx.receiptsOf(reply.id) : [];
      return got.some((r) => r.status === e.cx.wire(["READ"])[0]) ? got : undefined;
    }, 60_000);
    expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "DELIVERED", "READ"]));
    expect((await e.tw.sentTo(to)).map((m) => [m.from, m.body])).toEqual([
      [WA, "Flight NH7 is delayed. New departure: 21:05."],
      [WA, "Done: NH9 at 08:10, seat 14C."],
    ]);
  });

  it("refuses free text to a WhatsApp customer who never wrote: FAILED OUTSIDE_WHATSAPP_WINDOW, nothing at Twilio", async () => {
    const number = customer();
    const to = `whatsapp:${number}`;
    // An alert opens the conversation; nobody answers it; the agent writes anyway.
    const res = await flightAlert(number, "NH8", "22:00");
    const alert = (await res.json()) as { conversationId: string };
    const conversation = await until("the alert's conversation", async () => (await e.cx.conversationsOf(to)).find((x) => x.ids.includes(alert.conversationId)));
    await until("the template at Twilio", async () => ((await e.tw.sentTo(to)).length > 0 ? true : undefined));
    const reply = await e.cx.agentReply(conversation, "Are you still travelling?");
    expect(reply.status).toBe(200);
    const receipts = await until("the refusal", async () => {
      const got = reply.id ? await e.cx.receiptsOf(reply.id) : [];
      return got.length > 0 ? got : undefined;
    });
    expect(receipts).toEqual([expect.objectContaining({ status: e.cx.wire(["FAILED"])[0], errorCode: "OUTSIDE_WHATSAPP_WINDOW" })]);
    expect(await e.tw.sentTo(to)).toHaveLength(1);
    const stats = await json<{ outsideWindow: number }>(`${e.stack.twilioUrl}/_emu/stats`);
    expect(stats.outsideWindow).toBe(0);
  });
});
