import { beforeEach, describe, expect, it } from "vitest";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";

const emu = useEmulators();

const appends = () => emu.cxone.state.calls["POST /api/v2/conversations/:id/messages"] ?? 0;
const creates = () => emu.cxone.state.calls["POST /api/v2/conversations"] ?? 0;

describe("threading an inbound SMS into the customer's one conversation", () => {
  it("creates a conversation for the first message and appends later ones to it, in order", async () => {
    const customer = phone();
    for (const body of ["first", "second", "third"]) {
      const res = await postInbound(inboundFields({ From: customer, Body: body }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
      expect(await res.text()).toContain("<Response></Response>");
      await thread(customer).deliver();
    }
    const conversations = emu.cxone.conversationsOf(customer);
    expect(conversations).toHaveLength(1);
    const conv = conversations[0]!;
    expect(conv.messages.map((m) => m.text)).toEqual(["first", "second", "third"]);
    expect(conv.initiatedBy).toBe("customer");
    expect(conv.properties).toEqual({ business_number: "+15550001000" });
    expect(conv.messages[0]!.metadata).toMatchObject({ from: customer, to: "+15550001000", segments: 1 });
    expect(creates()).toBe(1);
    // D1 holds the mapping MessageSid → conversation, message by message.
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE customer = ? AND state = 'delivered' AND conversation_id = ?", customer, conv.id)).toBe(3);
    expect(await d1Count("SELECT COUNT(*) AS n FROM conversations WHERE id = ? AND customer = ?", conv.id, customer)).toBe(1);
  });

  it("turns ten simultaneous first messages into one conversation holding all ten", async () => {
    const customer = phone();
    const bodies = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
    const responses = await Promise.all(bodies.map((Body) => postInbound(inboundFields({ From: customer, Body }))));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    await thread(customer).deliver();
    const conversations = emu.cxone.conversationsOf(customer);
    expect(conversations).toHaveLength(1);
    expect(conversations[0]!.messages.map((m) => m.text).sort()).toEqual([...bodies].sort());
    expect(creates()).toBe(1);
  });

  it("posts a MessageSid that Twilio delivers twice to CXone once", async () => {
    const customer = phone();
    const fields = inboundFields({ From: customer });
    const [a, b] = await Promise.all([postInbound(fields), postInbound(fields)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await thread(customer).deliver();
    expect((await postInbound(fields)).status).toBe(200);
    await thread(customer).deliver();
    expect(emu.cxone.conversationsOf(customer)[0]!.messages).toHaveLength(1);
    expect(appends()).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", fields.MessageSid)).toBe(1);
  });

  it("joins a conversation that is already active in CXone instead of starting another", async () => {
    const customer = phone();
    const existing = emu.cxone.state.createConversation(
      {
        channel_type: "sms",
        initiated_by: "business",
        direction: "outbound",
        participants: [{ role: "customer", address: customer, address_type: "phone" }],
        status: "active",
        properties: {},
      },
      "made-elsewhere",
    ).conversation;
    await postInbound(inboundFields({ From: customer }));
    await thread(customer).deliver();
    expect(emu.cxone.conversationsOf(customer)).toHaveLength(1);
    expect(existing.messages).toHaveLength(1);
    expect(creates()).toBe(0);
  });

  it("reactivates an archived conversation (409) and appends to the same one", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "before" }));
    await thread(customer).deliver();
    const conv = emu.cxone.conversationsOf(customer)[0]!;
    emu.cxone.archive(conv.id);

    await postInbound(inboundFields({ From: customer, Body: "after" }));
    await thread(customer).deliver();
    expect(emu.cxone.conversationsOf(customer)).toHaveLength(1);
    expect(conv.archived).toBe(false);
    expect(conv.status).toBe("active");
    expect(conv.messages.map((m) => m.text)).toEqual(["before", "after"]);
  });

  it("starts a new conversation when CXone no longer has the old one (404)", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "old thread" }));
    await thread(customer).deliver();
    const old = emu.cxone.conversationsOf(customer)[0]!;
    emu.cxone.remove(old.id);

    await postInbound(inboundFields({ From: customer, Body: "new thread" }));
    await thread(customer).deliver();
    const fresh = emu.cxone.conversationsOf(customer).find((c) => c.id !== old.id)!;
    expect(fresh.messages.map((m) => m.text)).toEqual(["new thread"]);
    expect(old.messages.map((m) => m.text)).toEqual(["old thread"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM conversations WHERE id = ? AND status = 'gone'", old.id)).toBe(1);
    expect((await thread(customer).status()).conversationId).toBe(fresh.id);
  });

  it("keeps media and the Twilio metadata on the CXone message", async () => {
    const customer = phone();
    await postInbound(
      inboundFields({ From: customer, Body: "", NumMedia: "1", MediaUrl0: "https://media.example.com/a.jpg", MediaContentType0: "image/jpeg" }),
    );
    await thread(customer).deliver();
    const message = emu.cxone.conversationsOf(customer)[0]!.messages[0]!;
    expect(message.media).toEqual([{ url: "https://media.example.com/a.jpg", contentType: "image/jpeg" }]);
    expect(message.metadata).toHaveProperty("twilio_message_sid");
    expect(message.metadata).toHaveProperty("received_at");
  });

  it("delivers on its own after the webhook is answered (the alarm), without anyone asking", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer }));
    // The alarm was armed for "now"; the status call waits for nothing but lets us look.
    const armed = await thread(customer).status();
    expect(armed.pending + (armed.conversationId ? 1 : 0)).toBeGreaterThan(0);
    await expect.poll(() => emu.cxone.conversationsOf(customer)[0]?.messages.length ?? 0, { timeout: 5_000 }).toBe(1);
    // …and recorded it as delivered into that conversation, with nothing left to do.
    const conversationId = emu.cxone.conversationsOf(customer)[0]!.id;
    await expect
      .poll(() => d1Count("SELECT COUNT(*) AS n FROM messages WHERE customer = ? AND state = 'delivered' AND conversation_id = ?", customer, conversationId), { timeout: 5_000 })
      .toBe(1);
    expect(await thread(customer).status()).toMatchObject({ pending: 0, dead: 0, conversationId });
  });
});
