import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OutboundItem } from "../../src/adapters/cxone/reply-item";
import { requireConfig } from "../../src/config";
import { acceptDeps, pageDeps } from "../../src/deps";
import { acceptOutbound, acceptPage } from "../../src/domain/outbound/accept";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, senderNumber, settle, syncToD1 } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);
const suppressed = (customer: string) => d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ? AND business = ?", customer, B.TWILIO_FROM_NUMBER);

async function text(customer: string, body: string) {
  const res = await postInbound(inboundFields({ From: customer, Body: body }));
  expect(res.status).toBe(200);
  await thread(customer).deliver();
}

describe("opt-out keywords", () => {
  it.each(["STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "cancel", "End", "quit", "revoke", "optout"])(
    "%j puts the sender on the suppression list and still reaches the agent, marked",
    async (keyword) => {
      const customer = phone();
      await text(customer, keyword);
      expect(await suppressed(customer)).toBe(1);
      const [message] = emu.cxone.conversationsOf(customer)[0]!.messages;
      expect(message!.text).toBe(keyword);
      expect(message!.metadata).toMatchObject({ opt_out: "stop" });
    },
  );

  it.each(["START", "unstop", "Yes"])("%j takes the sender off again", async (keyword) => {
    const customer = phone();
    await text(customer, "STOP");
    expect(await suppressed(customer)).toBe(1);
    await text(customer, keyword);
    expect(await suppressed(customer)).toBe(0);
  });

  it("passes HELP to the agent like any message, without touching the list", async () => {
    const customer = phone();
    await text(customer, "HELP");
    expect(await suppressed(customer)).toBe(0);
    expect(emu.cxone.conversationsOf(customer)[0]!.messages[0]!.metadata).not.toHaveProperty("opt_out");
  });

  it("trusts Twilio's OptOutType (Advanced Opt-Out) even for a custom keyword", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "ARRET", OptOutType: "STOP" }));
    await thread(customer).deliver();
    expect(await suppressed(customer)).toBe(1);
  });

  it("sends no SMS to a suppressed number and tells CXone FAILED / OPTED_OUT", async () => {
    const customer = phone();
    await text(customer, "stop");
    const item = outboundItem({ to: customer, conversationId: emu.cxone.conversationsOf(customer)[0]!.id });
    expect((await push(item)).status).toBe(200);
    await settle();
    expect(emu.twilio.messages().filter((m) => m.to === customer)).toEqual([]);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "OPTED_OUT"]]);
  });

  it("a reply to an opted-out customer that the poll takes while the push refuses it: sent never, reported FAILED once", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.cxone.state.messageIds.add(item.id);
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES (?, ?, 'test', ?)").bind(from, item.to, Date.now()).run();
    const config = requireConfig(env);
    const reply = OutboundItem.parse(item);
    const push = acceptDeps(env, config);
    // The poll's page finds the same reply while the push reads the opt-out (the soak's race).
    const racing = { ...push, isSuppressed: async (phone: string, businesses: (string | null | undefined)[]) => {
      await acceptPage(pageDeps(env, config), config, [reply], 1);
      return push.isSuppressed(phone, businesses);
    } };
    await acceptOutbound(racing, config, reply, "push");
    await settle(from);
    await syncToD1(from);
    expect(emu.twilio.messages().filter((m) => m.to === item.to)).toEqual([]);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "OPTED_OUT"]]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'failed' AND error_code = 'OPTED_OUT'", item.id)).toBe(1);
  });

  it("a replayed old STOP does not undo a later START", async () => {
    const customer = phone();
    const stop = inboundFields({ From: customer, Body: "STOP" });
    await postInbound(stop);
    await text(customer, "START");
    await postInbound(stop); // Twilio retries the old webhook
    await thread(customer).deliver();
    expect(await suppressed(customer)).toBe(0);
  });
});
