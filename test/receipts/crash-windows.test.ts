import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { useEmulators } from "../support/emulators";
import { d1Count } from "../support/inbound";
import { step } from "../support/clock";
import { liveState, outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";
import { reconcile } from "../../src/domain/reconcile";
import { reconcileDeps } from "../../src/deps";
import { requireConfig } from "../../src/config";

/**
 * A Worker can die between any two of its writes (the soak kills `wrangler dev` mid-traffic).
 * Here a SQLite trigger makes one write fail, which is that death as D1 sees it: the steps
 * before it happened, the rest did not. Afterwards the way the world retries — CXone pushing or
 * polling the same reply, Twilio's next callback, the reconciler — must finish the job once.
 */
const emu = useEmulators();
const push = pusher(emu);
const MINUTE = 60_000;

const triggers: string[] = [];
async function failWrites(name: string, definition: string) {
  await env.DB.prepare(`CREATE TRIGGER ${name} ${definition} BEGIN SELECT RAISE(ABORT, 'injected: the Worker died here'); END`).run();
  triggers.push(name);
}
afterEach(async () => {
  for (const name of triggers.splice(0)) await env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
});

const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => [r.body.status, r.body.deliveryReceipt.errorCode ?? null]);
const state = async (id: string) => (await env.DB.prepare("SELECT state FROM messages WHERE cxone_message_id = ?").bind(id).first<{ state: string }>())?.state;
const reconcileAt = (minutes: number) => {
  const config = requireConfig(env);
  return reconcile(reconcileDeps(env, config), { now: Date.now() + minutes * MINUTE, recheckMs: config.RECONCILE_AFTER_MINUTES * MINUTE });
};

async function sent() {
  const from = senderNumber();
  const item = outboundItem({ from });
  expect((await push(item)).status).toBe(200);
  await settle(from);
  const message = emu.twilio.messages().find((m) => m.to === item.to)!;
  return { item, sid: message.sid, from, message };
}

describe("a Worker dying between two writes", () => {
  it("refusing a reply to an opted-out number: the failure and its FAILED report are one write, and a repeat push finishes it", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES (?, ?, 'test', ?)").bind(from, item.to, Date.now()).run();
    await failWrites("die_before_report", "BEFORE INSERT ON outbox");

    const first = await push(item);
    expect(first.status).toBe(503); // CXone will push or poll it again
    // Not "failed" without a report (that message would never have been reported): not claimed at all.
    expect(await state(item.id)).toBeUndefined();
    expect(reports(item.id)).toEqual([]);

    await env.DB.prepare("DROP TRIGGER die_before_report").run();
    expect((await push(item)).status).toBe(200);
    await settle(from);
    expect(await state(item.id)).toBe("failed");
    expect(reports(item.id)).toEqual([["FAILED", "OPTED_OUT"]]);
    expect(emu.twilio.messages().filter((m) => m.to === item.to)).toEqual([]);
  });

  it("a final status whose receipt was never queued (the object died between the two): its sender's own check asks Twilio and reports it", async () => {
    const { item, sid, from, message } = await sent();
    // The status moved to delivered, and the object died before the receipt and the settle.
    await runInDurableObject(sender(from), (_i, state) => state.storage.sql.exec("UPDATE queue SET twilio_status = 'delivered' WHERE sid = ?", sid));
    expect(reports(item.id)).toEqual([["SENT", null]]);
    message.status = "delivered";
    await step(sender(from)); // its check time: RECONCILE_AFTER_MINUTES after the send
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    expect(await liveState(item.id)).toMatchObject({ s: "delivered", state: "settled" });
    await step(sender(from));
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
  });

  it("a carrier error (30008) reported twice (Twilio repeats a callback it thinks failed): one retry, no FAILED receipt", async () => {
    const { item, sid, from } = await sent();
    expect(await emu.twilio.sendStatus(sid, "undelivered", 30008)).toBe(200);
    expect(await emu.twilio.sendStatus(sid, "undelivered", 30008)).toBe(200);
    expect(reports(item.id)).toEqual([["SENT", null]]);
    await settle(from);
    const attempts = emu.twilio.messages().filter((m) => m.to === item.to);
    expect(attempts).toHaveLength(2);
    expect(await liveState(item.id)).toMatchObject({ sid: attempts[1]!.sid, carrierRetries: 1 });
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND message_sid = ? AND carrier_retries = 1", item.id, attempts[1]!.sid)).toBe(1);
  });
});
