import { describe, expect, it } from "vitest";
import { DFO_BINDINGS as D, SERVICE_SID } from "../support/bindings";
import { threadOf, useDfoEmulators } from "../support/dfo";
import { advance, d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";

/**
 * contract §8, inbound: a customer's text is posted into the thread named by their number on the
 * channel of the business number they texted — once, in order, retried through DFO's failures.
 */
const emu = useDfoEmulators();
const POSTS = { method: "POST", path: "^/dfo/3.0/channels/[^/]+/messages$" };

async function text(customer: string, body: string, over: Record<string, string> = {}) {
  const fields = inboundFields({ From: customer, Body: body, ...over });
  expect((await postInbound(fields)).status).toBe(200);
  return fields;
}

describe("a customer's text in DFO mode", () => {
  it("is posted into the customer's thread on the business number's channel, with the MessageSid as its id", async () => {
    const customer = phone();
    const fields = await text(customer, "Is my parcel on its way?");
    await thread(customer).deliver();
    const t = threadOf(emu, "chat_main", customer)!;
    expect(t.messages).toHaveLength(1);
    expect(t.messages[0]).toMatchObject({ direction: "inbound", idOnExternalPlatform: fields.MessageSid, text: "Is my parcel on its way?" });
    expect(t.threadName).toBe(`SMS ***${customer.slice(-4)}`);
    // The contact is the conversation the bridge records.
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'delivered' AND conversation_id = ?", fields.MessageSid, t.contactIds[0])).toBe(1);
  });

  it("posts to the channel of the number texted, or of its Messaging Service, or the default", async () => {
    const customer = phone();
    await text(customer, "to the second number", { To: "+15550002000" });
    await thread(customer, "+15550002000").deliver();
    expect(threadOf(emu, "chat_second", customer)?.messages).toHaveLength(1);

    await text(customer, "to a number of the service", { To: "+15550003333", MessagingServiceSid: SERVICE_SID });
    await thread(customer, "+15550003333").deliver();
    expect(threadOf(emu, "chat_service", customer)?.messages).toHaveLength(1);

    await text(customer, "to a number nobody mapped", { To: "+15550004444" });
    await thread(customer, "+15550004444").deliver();
    expect(threadOf(emu, "chat_main", customer)?.messages.map((m) => m.text)).toEqual(["to a number nobody mapped"]);
  });

  it("turns ten simultaneous texts and a replay into ten messages in one thread, in arrival order", async () => {
    const customer = phone();
    const all = Array.from({ length: 10 }, (_, i) => inboundFields({ From: customer, Body: `burst ${i}` }));
    for (const f of all) expect((await postInbound(f)).status).toBe(200);
    expect((await postInbound(all[3]!)).status).toBe(200);
    await thread(customer).deliver();
    const t = threadOf(emu, "chat_main", customer)!;
    expect(t.messages.map((m) => m.text)).toEqual(all.map((f) => f.Body));
    expect(t.contactIds).toHaveLength(1);
  });

  it("marks an opt-out keyword for the agent", async () => {
    const customer = phone();
    await text(customer, "STOP");
    await thread(customer).deliver();
    expect(threadOf(emu, "chat_main", customer)!.messages[0]).toMatchObject({ text: "STOP" });
    expect(await d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ?", customer)).toBe(1);
  });

  it("retries through DFO's failures and keeps the thread's order", async () => {
    const customer = phone();
    emu.dfo.faults.add({ ...POSTS, kind: "status", status: 503, times: 2 });
    const first = await text(customer, "first");
    await text(customer, "second");
    await thread(customer).deliver();
    expect(threadOf(emu, "chat_main", customer)?.messages ?? []).toHaveLength(0);
    await advance(customer);
    await advance(customer);
    await thread(customer).deliver(true);
    expect(threadOf(emu, "chat_main", customer)!.messages.map((m) => m.text)).toEqual(["first", "second"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'delivered'", first.MessageSid)).toBe(1);
  });

  it("counts a post whose answer was lost as delivered when DFO says it has it (409), once", async () => {
    const customer = phone();
    emu.dfo.faults.add({ ...POSTS, kind: "lost", times: 1 });
    const fields = await text(customer, "answer lost");
    await thread(customer).deliver();
    await advance(customer);
    expect((await thread(customer).status(fields.MessageSid)).message?.state).toBe("delivered");
    expect(threadOf(emu, "chat_main", customer)!.messages).toHaveLength(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref = ?", fields.MessageSid)).toBe(0);
  });

  it("makes a text for a number with no channel at all a dead letter naming the setting", async () => {
    // Every number has the "*" channel in this project, so the rule is seen through the port itself.
    const { dfoPort } = await import("../../src/adapters/cxone/dfo/port");
    const { requireConfig } = await import("../../src/config");
    const config = { ...requireConfig({ ...D, CXONE_DFO_CHANNELS: JSON.stringify({ "+15550001000": "chat_main" }) }, "dfo") };
    const port = dfoPort(config, { get: async () => ({ value: "x", expiresAt: Infinity }), invalidate: async () => {} }, async () => {
      throw new Error("no media here");
    });
    const error = await port
      .deliverInbound({ conversationId: null, generation: 0 }, { sid: "SM1", from: phone(), to: "+15559999999", body: "x", media: [], segments: 1, receivedAt: new Date().toISOString() })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: "no_dfo_channel", retryable: false });
    expect(String((error as { detail?: string }).detail)).toContain("CXONE_DFO_CHANNELS");
  });
});
