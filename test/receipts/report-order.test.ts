import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import { useEmulators } from "../support/emulators";
import { step } from "../support/clock";
import { liveState, outboundItem, pusher, sender, senderNumber, settle, syncToD1 } from "../support/outbound";

/**
 * Issue 10, items 4 and 7: a message's reports reach CXone in order whatever CXone delays, and a
 * refusal that comes late never moves a message that already has its final state.
 */
// One CXone for the file: the poller's cursor (kept in this file's storage) points into its feed.
const emu = useEmulators({ perFile: true });
const push = pusher(emu);
const MINUTE = 60_000;
const REPORTS = { method: "PUT", path: "^/api/v2/open-messaging/messages/" };

const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => r.body.status);
const reconcileAt = (minutes: number) => {
  const config = requireConfig(env);
  return reconcile(reconcileDeps(env, config), { now: Date.now() + minutes * MINUTE, recheckMs: config.RECONCILE_AFTER_MINUTES * MINUTE });
};
/** The message's state in D1, once its sender has written what it holds. */
const state = async (id: string, from: string) => {
  await syncToD1(from);
  return (await env.DB.prepare("SELECT state, twilio_status FROM messages WHERE cxone_message_id = ?").bind(id).first<{ state: string; twilio_status: string }>())!;
};
/** Lets the sender's time pass until its reports are out (a retry waits out CXone's backoff). */
async function stepUntilQuiet(from: string) {
  for (let i = 0; i < 5; i++) await step(sender(from));
}

async function sentReply(fault?: { kind: "rate_limit"; retryAfterSec: number } | { kind: "status"; status: number }) {
  const from = senderNumber();
  const item = outboundItem({ from });
  if (fault) emu.cxone.faults.add({ ...REPORTS, ...fault, times: 1 });
  expect((await push(item)).status).toBe(200);
  await settle(from);
  const sms = emu.twilio.messages().find((m) => m.to === item.to)!;
  return { item, sms, from };
}

describe("a message's reports reach CXone in order", () => {
  for (const fault of [
    { kind: "rate_limit", retryAfterSec: 20 },
    { kind: "status", status: 503 },
  ] as const) {
    it(`holds DELIVERED back while SENT waits out a ${fault.kind === "rate_limit" ? "429 with Retry-After: 20" : "503"}, then sends both in order`, async () => {
      const { item, sms, from } = await sentReply(fault);
      expect(reports(item.id)).toEqual([]); // SENT was refused and waits for its retry
      await emu.twilio.sendStatus(sms.sid, "sent");
      await emu.twilio.sendStatus(sms.sid, "delivered");
      // The callback is in (the message is settled), but DELIVERED must not overtake SENT.
      expect(await liveState(item.id)).toMatchObject({ s: "delivered", state: "settled" });
      expect(reports(item.id)).toEqual([]);
      // The sender wakes for SENT's retry, not for DELIVERED, which is due but must wait behind it:
      // waking for that kept the object's alarm firing back to back (a busy loop).
      if (fault.kind === "rate_limit") {
        await step(sender(from));
        const alarm = await runInDurableObject(sender(from), (_i, st) => st.storage.getAlarm());
        expect(alarm! - Date.now()).toBeGreaterThan(10_000);
      }
      await stepUntilQuiet(from);
      expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
      await reconcileAt(30);
      expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    });
  }

  it("sends a later report at once when CXone delays one message's report but not the next message's", async () => {
    const slow = await sentReply({ kind: "rate_limit", retryAfterSec: 20 });
    const fast = await sentReply();
    await emu.twilio.sendStatus(fast.sms.sid, "delivered");
    expect(reports(fast.item.id)).toEqual(["SENT", "DELIVERED"]);
    expect(reports(slow.item.id)).toEqual([]);
  });
});

describe("a refusal that comes late", () => {
  it("never turns a delivered reply into FAILED (a poll item with the same id that fails validation)", async () => {
    const { item, sms, from } = await sentReply();
    await emu.twilio.sendStatus(sms.sid, "delivered");
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    // CXone's feed lists the same id again, in a shape the bridge cannot send.
    emu.cxone.state.feed.push({ ...item, to: "not a number", direction: "OUTBOUND", channel: "SMS", status: "PENDING" } as never);
    const polled = await env.POLLER.getByName("poller").tick();
    expect(polled.invalid).toBeGreaterThanOrEqual(1);
    expect(await state(item.id, from)).toEqual({ state: "settled", twilio_status: "delivered" });
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
    // Nor files a dead letter for it: there is nothing an operator could retry.
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE ref = ?").bind(item.id).first<{ n: number }>()).toEqual({ n: 0 });
  });

  it("still fails and reports an invalid item the bridge never saw", async () => {
    const id = `out-${crypto.randomUUID()}`;
    emu.cxone.state.messageIds.add(id);
    emu.cxone.state.feed.push({ id, conversationId: "conv-x", to: "not a number", body: "x", direction: "OUTBOUND", channel: "SMS", status: "PENDING", createdTime: new Date().toISOString() });
    await env.POLLER.getByName("poller").tick();
    expect((emu.cxone.state.reports.get(id) ?? []).map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "INVALID_MESSAGE"]]);
  });
});
