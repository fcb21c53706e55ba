import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, messageSid, phone, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, settle } from "../support/outbound";

/**
 * Issue 10, item 5 (contract §5): the suppression list follows the customer's messages in the order
 * they sent them, whenever each keyword's D1 write lands; and a keyword to a number inside a
 * Messaging Service suppresses for the service too.
 */
const emu = useEmulators();
const push = pusher(emu);
const SERVICE = `MG${"c".repeat(32)}`;

const suppressedFor = (customer: string, business: string) => d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ? AND business = ?", customer, business);

const triggers: string[] = [];
/** The first D1 write of this MessageSid fails, as if D1 (or the Worker) failed right then. */
async function failFirstWrite(sid: string) {
  const name = `fail_${sid}`;
  await env.DB.prepare(
    `CREATE TRIGGER ${name} BEFORE INSERT ON messages WHEN NEW.message_sid = '${sid}' BEGIN SELECT RAISE(ABORT, 'injected: D1 refused the first write'); END`,
  ).run();
  triggers.push(name);
}
async function healD1() {
  for (const name of triggers.splice(0)) await env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
}
afterEach(healD1);

async function text(customer: string, body: string, over: Record<string, string> = {}) {
  const res = await postInbound(inboundFields({ From: customer, Body: body, ...over }));
  expect(res.status).toBe(200);
}

describe("suppression follows the customer's order", () => {
  it("a START whose write failed and was repaired after a later STOP does not undo the STOP", async () => {
    const customer = phone();
    const start = messageSid();
    await failFirstWrite(start);
    await text(customer, "START", { MessageSid: start });
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", start)).toBe(0);
    await text(customer, "STOP");
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(1);
    await healD1();
    // The thread's repair pass writes the START now, after the STOP.
    await thread(customer).deliver(true);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", start)).toBe(1);
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(1);

    // And a reply to them is refused, never sent.
    const conversationId = emu.cxone.conversationsOf(customer)[0]!.id;
    const reply = outboundItem({ to: customer, conversationId });
    await push(reply);
    await settle();
    expect(emu.twilio.messages().filter((m) => m.to === customer)).toHaveLength(0);
    expect(emu.cxone.state.reports.get(reply.id)?.map((r) => r.body.deliveryReceipt.errorCode)).toEqual(["OPTED_OUT"]);
  });

  it("a STOP whose write failed and was repaired after a later START does not suppress again", async () => {
    const customer = phone();
    const stop = messageSid();
    await failFirstWrite(stop);
    await text(customer, "STOP", { MessageSid: stop });
    await text(customer, "START");
    await healD1();
    await thread(customer).deliver(true);
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(0);
  });

  it("an operator's removal is not undone by an older STOP written late", async () => {
    const customer = phone();
    const stop = messageSid();
    await failFirstWrite(stop);
    await text(customer, "STOP", { MessageSid: stop });
    // The operator puts them on the list and takes them off again, by hand.
    const admin = (method: string) =>
      exports.default.fetch(
        new Request(`${B.PUBLIC_BASE_URL}/admin/opt-outs/${encodeURIComponent(customer)}`, { method, headers: { authorization: `Bearer ${B.ADMIN_TOKEN}`, "content-type": "application/json" }, ...(method === "PUT" ? { body: JSON.stringify({ business: B.TWILIO_FROM_NUMBER }) } : {}) }),
      );
    expect((await admin("PUT")).status).toBe(200);
    expect((await admin("DELETE")).status).toBe(200);
    await healD1();
    await thread(customer).deliver(true);
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(0);
  });

  it("a keyword replayed later (the same MessageSid again) changes nothing", async () => {
    const customer = phone();
    const stop = inboundFields({ From: customer, Body: "STOP" });
    expect((await postInbound(stop)).status).toBe(200);
    await text(customer, "START");
    expect((await postInbound(stop)).status).toBe(200);
    await thread(customer).deliver(true);
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(0);
  });
});

describe("a keyword to a number inside a Messaging Service", () => {
  it("suppresses for the number and the service, and START lifts both", async () => {
    const customer = phone();
    await text(customer, "STOP", { MessagingServiceSid: SERVICE });
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(1);
    expect(await suppressedFor(customer, SERVICE)).toBe(1);

    // A reply through the service (to another of its numbers' conversations) is refused too.
    const reply = outboundItem({ to: customer, from: SERVICE });
    await push(reply);
    await settle(SERVICE);
    expect(emu.twilio.messages().filter((m) => m.to === customer)).toHaveLength(0);
    expect(emu.cxone.state.reports.get(reply.id)?.map((r) => r.body.deliveryReceipt.errorCode)).toEqual(["OPTED_OUT"]);

    await text(customer, "START", { MessagingServiceSid: SERVICE });
    expect(await suppressedFor(customer, B.TWILIO_FROM_NUMBER)).toBe(0);
    expect(await suppressedFor(customer, SERVICE)).toBe(0);
  });
});
