import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import { DFO_BINDINGS as D } from "../support/bindings";
import { useDfoEmulators, worker } from "../support/dfo";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { settle } from "../support/outbound";

/**
 * contract §8, agent replies: CXone calls the bridge for each one (with its OAuth dance); the bridge
 * answers 200 once the reply is durably queued, sends one SMS from the channel's number, and
 * reports final states — never SENT — as status updates, in order.
 */
const emu = useDfoEmulators();
const MAIN = "+15550001000";
const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);
const statuses = (id: string) => (emu.dfo.state.statuses.get(id) ?? []).map((s) => [s.status, s.reason ?? null]);

async function customerWithThread(business = MAIN) {
  const customer = phone();
  await postInbound(inboundFields({ From: customer, To: business }));
  await thread(customer, business).deliver();
  return customer;
}

describe("an agent's reply in DFO mode", () => {
  it("is answered 200 with the bridge's id after the token dance, sent once from the channel's number, and reported delivered", async () => {
    const customer = await customerWithThread();
    const result = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "Your parcel arrives today" });
    expect(result).toMatchObject({ status: 200, tokenRequested: true });
    const answer = result.answer as { idOnExternalPlatform: string; message: { idOnExternalPlatform: string; createdAtWithMilliseconds: string }; thread: { idOnExternalPlatform: string }; endUserIdentities: { idOnExternalPlatform: string }[] };
    expect(answer.message.idOnExternalPlatform).toBe(answer.idOnExternalPlatform);
    expect(answer.message.createdAtWithMilliseconds).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(answer.thread).toEqual({ idOnExternalPlatform: customer });
    expect(answer.endUserIdentities).toEqual([{ idOnExternalPlatform: customer }]);
    await settle(MAIN);
    expect(sentTo(customer).map((m) => [m.body, m.from])).toEqual([["Your parcel arrives today", MAIN]]);
    expect(statuses(answer.idOnExternalPlatform)).toEqual([]); // no SENT in this mode
    await emu.twilio.sendStatus(sentTo(customer)[0]!.sid, "sent");
    await emu.twilio.sendStatus(sentTo(customer)[0]!.sid, "delivered");
    expect(statuses(answer.idOnExternalPlatform)).toEqual([["delivered", null]]);
  });

  it("answers with the instant the reply is ordered by in its conversation, the same for a repeat", async () => {
    const customer = await customerWithThread();
    // Every reading of the clock a millisecond later: the bridge reads it more than once while it
    // takes a reply, and the answer must name the reading the queue orders by, not a later one.
    let tick = Date.now();
    const clock = vi.spyOn(Date, "now").mockImplementation(() => ++tick);
    try {
      const first = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "ordered", cxoneMessageId: "cx-order-1" });
      const again = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "ordered", cxoneMessageId: "cx-order-1" });
      const answer = first.answer as { message: { idOnExternalPlatform: string; createdAtWithMilliseconds: string } };
      const queued = await env.SENDER.getByName(MAIN).inspect(answer.message.idOnExternalPlatform);
      expect(Date.parse(answer.message.createdAtWithMilliseconds)).toBe(queued!.created_ms);
      expect(again.answer).toEqual(first.answer);
    } finally {
      clock.mockRestore();
    }
  });

  it("sends one SMS and gives the same answer when CXone delivers the same reply twice", async () => {
    const customer = await customerWithThread();
    const first = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "once", cxoneMessageId: "cx-msg-1" });
    const again = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "once", cxoneMessageId: "cx-msg-1" });
    expect(again.answer).toEqual(first.answer);
    await settle(MAIN);
    expect(sentTo(customer)).toHaveLength(1);
  });

  it("treats the same words without a CXone id within 120 s as one SMS, and after 120 s as a new one", async () => {
    const customer = await customerWithThread();
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start, shouldAdvanceTime: true });
    try {
      const a = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "On my way", cxoneMessageId: null });
      vi.setSystemTime(start + 100_000);
      const b = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "On my way", cxoneMessageId: null });
      expect(b.answer).toEqual(a.answer);
      vi.setSystemTime(start + 400_000);
      const c = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "On my way", cxoneMessageId: null });
      expect((c.answer as { idOnExternalPlatform: string }).idOnExternalPlatform).not.toBe((a.answer as { idOnExternalPlatform: string }).idOnExternalPlatform);
    } finally {
      vi.useRealTimers();
    }
    await settle(MAIN);
    expect(sentTo(customer)).toHaveLength(2);
  });

  it("sends a reply on a channel missing from CXONE_DFO_CHANNELS from the default sender, and says so loudly", async () => {
    const customer = await customerWithThread();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const result = await emu.dfo.agentReply({ channelId: "chat_not_mapped", threadId: customer, text: "from an unmapped channel" });
      expect(result.status).toBe(200);
      const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string; detail?: string });
      expect(lines.filter((l) => l.event === "dfo.unknown_channel").map((l) => l.detail)).toEqual([expect.stringContaining("chat_not_mapped")]);
    } finally {
      warn.mockRestore();
    }
    await settle(D.TWILIO_FROM_NUMBER);
    expect(sentTo(customer).map((m) => [m.body, m.from])).toEqual([["from an unmapped channel", D.TWILIO_FROM_NUMBER]]);
  });

  it("takes the older callback (1.0 posts) and a body naming recipients the way CXone's agent side does", async () => {
    const customer = await customerWithThread();
    const old = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "via 1.0", form: "1.0" });
    const other = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "recipients key", recipientsKey: "recipients" });
    expect([old.status, other.status]).toEqual([200, 200]);
    await settle(MAIN);
    expect(sentTo(customer).map((m) => m.body)).toEqual(["via 1.0", "recipients key"]);
  });

  it("sends from the number whose channel the reply came on", async () => {
    const customer = await customerWithThread("+15550002000");
    await emu.dfo.agentReply({ channelId: "chat_second", threadId: customer, text: "from the second number" });
    await settle("+15550002000");
    expect(sentTo(customer)[0]).toMatchObject({ from: "+15550002000" });
  });

  it("reports an undelivered SMS as failed with Twilio's code, and a reply to an opted-out customer as failed OPTED_OUT without sending", async () => {
    const customer = await customerWithThread();
    emu.twilio.setOutcome(customer, { status: "undelivered", errorCode: 30003 });
    const sent = await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "will not arrive" });
    await settle(MAIN);
    await emu.twilio.sendStatus(sentTo(customer)[0]!.sid, "undelivered", 30003);
    expect(statuses((sent.answer as { idOnExternalPlatform: string }).idOnExternalPlatform)).toEqual([["failed", "30003"]]);

    const stopped = await customerWithThread();
    await postInbound(inboundFields({ From: stopped, Body: "STOP" }));
    await thread(stopped).deliver();
    const refused = await emu.dfo.agentReply({ channelId: "chat_main", threadId: stopped, text: "not to be sent" });
    expect(refused.status).toBe(200);
    await settle(MAIN);
    // Its report goes after the answer (CXone learns the id from it); the Cron's sweep at the latest.
    await reconcile(reconcileDeps(env, requireConfig(env)), { now: Date.now() + 60_000, recheckMs: 600_000 });
    expect(sentTo(stopped)).toHaveLength(0);
    expect(statuses((refused.answer as { idOnExternalPlatform: string }).idOnExternalPlatform)).toEqual([["failed", "OPTED_OUT"]]);
  });

  it("answers a typing indicator 204 and sends nothing", async () => {
    const customer = await customerWithThread();
    expect(await emu.dfo.senderAction({ channelId: "chat_main", threadId: customer, action: "isTypingOn" })).toBe(204);
    expect(sentTo(customer)).toHaveLength(0);
  });
});

describe("a reply callback that cannot be used", () => {
  async function call(body: unknown) {
    const auth = await worker("/cxone/dfo/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ grant_type: "client_credentials", client_id: D.CXONE_BYOC_CLIENT_ID, client_secret: D.CXONE_BYOC_CLIENT_SECRET }) });
    const { access_token } = (await auth.json()) as { access_token: string };
    return worker("/cxone/dfo/2.0/channel/chat_main/outbound", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${access_token}` }, body: typeof body === "string" ? body : JSON.stringify(body) });
  }

  it.each([
    ["no thread", { messageContent: { type: "TEXT", payload: { text: "x" } } }, "thread.idOnExternalPlatform"],
    ["no text and no attachment", { thread: { idOnExternalPlatform: "+14155550100" }, messageContent: { type: "TEXT", payload: {} } }, "messageContent.payload.text"],
    ["a recipient that is no phone number", { thread: { idOnExternalPlatform: "t-1" }, endUserRecipients: [{ idOnExternalPlatform: "someone" }], messageContent: { type: "TEXT", payload: { text: "x" } } }, "endUserRecipients.0.idOnExternalPlatform"],
    ["a text over 1,600 characters", { thread: { idOnExternalPlatform: "+14155550100" }, messageContent: { type: "TEXT", payload: { text: "x".repeat(1601) } } }, "messageContent.payload.text"],
    ["an attachment that is not a URL", { thread: { idOnExternalPlatform: "+14155550100" }, messageContent: { type: "TEXT", payload: { text: "x" } }, attachments: [{ url: "javascript:1" }] }, "attachments.0.url"],
    ["a body that is not JSON", "{nope", "JSON"],
  ])("is refused 400 naming the field: %s, nothing queued, nothing sent", async (_name, body, field) => {
    const before = await d1Count("SELECT COUNT(*) AS n FROM messages");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const res = await call(body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(field);
    // The body's keys are logged for the integrator, never its values.
    const lines = warn.mock.calls.map(([l]) => String(l)).filter((l) => l.includes("dfo.invalid_body"));
    warn.mockRestore();
    expect(lines).toHaveLength(1);
    if (typeof body === "object") expect(lines[0]).not.toContain("+14155550100");
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages")).toBe(before);
    expect(emu.twilio.messages()).toEqual([]);
  });

  it("takes a rich reply by its plain text (quick replies carry {content})", async () => {
    const customer = phone();
    const res = await call({ thread: { idOnExternalPlatform: customer }, messageContent: { type: "QUICK_REPLIES", payload: { text: { content: "Pick one" }, actions: [] } } });
    expect(res.status).toBe(200);
    await settle(MAIN);
    expect(sentTo(customer).map((m) => m.body)).toEqual(["Pick one"]);
  });
});
