import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { advance, d1Count, inboundFields, phone, postInbound, postTwilio, thread } from "../support/inbound";
import { outboundItem, pusher, senderNumber, settle } from "../support/outbound";
import { reconcile, type ReconcileReport } from "../../src/domain/reconcile";
import { reconcileDeps } from "../../src/deps";
import { requireConfig } from "../../src/config";

const emu = useEmulators();
const push = pusher(emu);
const MINUTE = 60_000;

/** One reconciler pass as if the Cron Trigger fired `minutes` from now. */
function reconcileAt(minutes: number): Promise<ReconcileReport> {
  const config = requireConfig(env);
  return reconcile(reconcileDeps(env, config), { now: Date.now() + minutes * MINUTE, recheckMs: config.RECONCILE_AFTER_MINUTES * MINUTE });
}

async function sent() {
  const from = senderNumber();
  const item = outboundItem({ from });
  await push(item);
  await settle(from);
  const message = emu.twilio.messages().find((m) => m.to === item.to)!;
  return { item, message, from };
}
const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => r.body.status);
const admin = (path: string, method = "GET") =>
  exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}${path}`, { method, headers: { authorization: `Bearer ${B.ADMIN_TOKEN}` } }));

describe("the reconciler", () => {
  it("finds the final state of a message whose callback was lost, by asking Twilio", async () => {
    const { item, message } = await sent();
    message.status = "delivered"; // Twilio knows; the callback never came.
    expect((await reconcileAt(5)).statusChecked).toBe(0); // not due yet
    const report = await reconcileAt(11);
    expect(report.statusFixed).toBeGreaterThanOrEqual(1);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    await reconcileAt(30);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });

  it("treats a message still 'sent' after Twilio's 10-hour window as settled, with no further receipt", async () => {
    const { item, message } = await sent();
    message.status = "sent";
    await reconcileAt(11);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'submitted'", item.id)).toBe(1);
    await reconcileAt(11 * 60);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'settled' AND check_at IS NULL", item.id)).toBe(1);
    expect(reports(item.id)).toEqual(["SENT"]);
  });

  it("lands a receipt CXone refused with 503 later, once", async () => {
    const { item, message } = await sent();
    emu.cxone.faults.add({ method: "PUT", path: "^/api/v2/open-messaging/messages/", kind: "status", status: 503, times: 1 });
    await emu.twilio.sendStatus(message.sid, "delivered");
    expect(reports(item.id)).toEqual(["SENT"]);
    await reconcileAt(60);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    await reconcileAt(120);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });

  it("makes a receipt that keeps failing a dead letter after the budget, and the admin retry lands it", async () => {
    const { item, message } = await sent();
    emu.cxone.faults.add({ method: "PUT", path: `^/api/v2/open-messaging/messages/${item.id}$`, kind: "status", status: 503, times: 100 });
    await emu.twilio.sendStatus(message.sid, "delivered");
    for (let hour = 1; hour <= Number(B.RETRY_MAX_ATTEMPTS) + 1; hour++) await reconcileAt(hour * 60);
    const list = (await (await admin("/admin/dead-letters")).json()) as { deadLetters: { id: number; kind: string; ref: string }[] };
    const letter = list.deadLetters.find((d) => d.ref === `${item.id}:DELIVERED`)!;
    expect(letter.kind).toBe("status");
    emu.cxone.faults.clear();
    const retried = await admin(`/admin/dead-letters/${letter.id}/retry`, "POST");
    expect(retried.status).toBe(200);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    expect((await admin(`/admin/dead-letters/${letter.id}/retry`, "POST")).status).toBe(409);
  });

  it("matches a status callback that arrived before the send was recorded", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    await push(item);
    // Twilio's callback beats the bridge's own record of the send: it is kept as an orphan.
    const early = `SM${"e".repeat(32)}`;
    await postTwilio("/twilio/status", { MessageSid: early, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID });
    await env.DB.prepare("UPDATE messages SET message_sid = ?, state = 'submitted', check_at = ? WHERE cxone_message_id = ?").bind(early, Date.now() + 600_000, item.id).run();
    emu.cxone.state.messageIds.add(item.id);
    const report = await reconcileAt(1);
    expect(report.orphansMatched).toBe(1);
    expect(reports(item.id)).toEqual(["DELIVERED"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ? AND matched = 0", early)).toBe(0);
    await settle(from);
  });

  it("retries an inbound message that is still not in CXone", async () => {
    const customer = phone();
    emu.cxone.faults.add({ method: "POST", path: "/messages$", kind: "status", status: 503, times: 2 });
    await postInbound(inboundFields({ From: customer, Body: "still waiting" }));
    await thread(customer).deliver();
    await advance(customer);
    expect(emu.cxone.conversationsOf(customer)[0]?.messages ?? []).toEqual([]);
    const report = await reconcileAt(11);
    expect(report.inboundRetried).toBe(1);
    expect(emu.cxone.conversationsOf(customer)[0]!.messages.map((m) => m.text)).toEqual(["still waiting"]);
  });

  it("costs nothing when nothing is stuck", async () => {
    const before = { ...emu.twilio.messages() };
    const report = await reconcileAt(0);
    expect(report).toMatchObject({ statusChecked: 0, lost: 0, inboundRetried: 0, errors: 0 });
    expect(emu.twilio.messages()).toHaveLength(Object.keys(before).length);
  });
});
