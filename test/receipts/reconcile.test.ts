import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { advance, d1Count, inboundFields, phone, postInbound, postTwilio, thread } from "../support/inbound";
import { step } from "../support/clock";
import { liveState, outboundItem, pusher, sender, senderNumber, settle, syncToD1 } from "../support/outbound";
import { reconcile, type ReconcileReport } from "../../src/domain/reconcile";
import { reconcileDeps } from "../../src/deps";
import { requireConfig } from "../../src/config";

const emu = useEmulators();
const push = pusher(emu);
const MINUTE = 60_000;
const alarmOf = (stub: ReturnType<typeof sender>) => runInDurableObject(stub, (_i, state) => state.storage.getAlarm());

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
  it("has the sender ask Twilio about a sent message whose callback was lost, at its check time, not the Cron", async () => {
    const { item, message, from } = await sent();
    message.status = "delivered"; // Twilio knows; the callback never came.
    expect((await reconcileAt(11)).statusChecked).toBe(0); // the Cron's sweep has nothing to do with it
    const stub = sender(from);
    const at = (await alarmOf(stub))! - Date.now();
    expect(at).toBeGreaterThan(9 * MINUTE);
    expect(at).toBeLessThanOrEqual(10 * MINUTE + 1_000);
    await step(stub);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    expect(await liveState(item.id)).toMatchObject({ s: "delivered", state: "settled" });
    // Settled: no further look, and nothing more to report.
    await step(stub);
    expect(emu.twilio.stats().faults).toEqual({});
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });

  it("treats a message still 'sent' after Twilio's 10-hour window as settled, with no further receipt", async () => {
    const { item, message, from } = await sent();
    message.status = "sent";
    const stub = sender(from);
    await step(stub);
    expect((await liveState(item.id)).state).toBe("submitted");
    // Each look backs off (10, 20, 40 … minutes, at most 6 hours apart) until the window has passed.
    for (let i = 0; i < 12 && (await liveState(item.id)).state !== "settled"; i++) await step(stub);
    expect(await liveState(item.id)).toMatchObject({ s: "sent", state: "settled" });
    expect(reports(item.id)).toEqual(["SENT"]);
    await syncToD1(from);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'settled' AND check_at IS NULL", item.id)).toBe(1);
  });

  it("lands a receipt CXone refused with 503 later, once, from the sender's own outbox", async () => {
    const { item, message, from } = await sent();
    emu.cxone.faults.add({ method: "PUT", path: "^/api/v2/open-messaging/messages/", kind: "status", status: 503, times: 1 });
    await emu.twilio.sendStatus(message.sid, "delivered");
    expect(reports(item.id)).toEqual(["SENT"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM outbox WHERE cxone_message_id = ?", item.id)).toBe(0);
    await step(sender(from));
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    await step(sender(from));
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });

  it("makes a receipt that keeps failing a dead letter after the budget, and the admin retry lands it", async () => {
    const { item, message, from } = await sent();
    emu.cxone.faults.add({ method: "PUT", path: `^/api/v2/open-messaging/messages/${item.id}$`, kind: "status", status: 503, times: 100 });
    await emu.twilio.sendStatus(message.sid, "delivered");
    for (let i = 0; i < Number(B.RETRY_MAX_ATTEMPTS) + 1; i++) await step(sender(from));
    const list = (await (await admin("/admin/dead-letters")).json()) as { deadLetters: { id: number; kind: string; ref: string }[] };
    const letter = list.deadLetters.find((d) => d.ref === `${item.id}:DELIVERED`)!;
    expect(letter.kind).toBe("status");
    emu.cxone.faults.clear();
    const retried = await admin(`/admin/dead-letters/${letter.id}/retry`, "POST");
    expect(retried.status).toBe(200);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    expect((await admin(`/admin/dead-letters/${letter.id}/retry`, "POST")).status).toBe(409);
  });

  it("matches a callback without routing keys that came before D1 knew its SID, once D1 does", async () => {
    const { item, message } = await sent();
    // A callback for a send made before the keys existed, while D1 does not have the SID yet.
    await env.DB.prepare("UPDATE messages SET message_sid = NULL WHERE cxone_message_id = ?").bind(item.id).run();
    await postTwilio("/twilio/status", { MessageSid: message.sid, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID });
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ? AND matched = 0", message.sid)).toBe(1);
    expect(reports(item.id)).toEqual(["SENT"]);
    await env.DB.prepare("UPDATE messages SET message_sid = ? WHERE cxone_message_id = ?").bind(message.sid, item.id).run();
    const report = await reconcileAt(1);
    expect(report.orphansMatched).toBe(1);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ? AND matched = 0", message.sid)).toBe(0);
  });

  it("keeps a callback that came before its send's SID was known (the answer was lost), and applies it after SENT", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "lost", times: 1 });
    emu.twilio.faults.add({ method: "GET", path: "/Messages\\.json$", kind: "status", status: 503, times: 1 });
    await push(item);
    await step(sender(from));
    const sms = emu.twilio.messages().find((m) => m.to === item.to)!;
    expect((await sender(from).inspect(item.id))!.state).toBe("unknown");
    // Twilio reports before the bridge has found the send: held, since SENT must come first.
    expect(await emu.twilio.sendStatus(sms.sid, "delivered")).toBe(200);
    expect(reports(item.id)).toEqual([]);
    await settle(from);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    expect(await liveState(item.id)).toMatchObject({ s: "delivered", state: "settled", sid: sms.sid });
    expect(emu.twilio.messages().filter((m) => m.to === item.to)).toHaveLength(1);
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
