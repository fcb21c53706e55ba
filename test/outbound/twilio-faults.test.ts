import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { setStatus } from "../../emulators/twilio/messages";
import { useEmulators } from "../support/emulators";
import { step } from "../support/clock";
import { d1Count } from "../support/inbound";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);
const SEND = { method: "POST", path: "/Messages\\.json$" };
const sentTo = (to: string) => emu.twilio.messages().filter((m) => m.to === to);

/** A reply Twilio committed whose answer was lost, and whose first lookup failed too: sent once, not yet known to the bridge. */
async function sentWithLostAnswer() {
  const from = senderNumber();
  const item = outboundItem({ from });
  emu.twilio.faults.add({ ...SEND, kind: "lost", times: 1 }, { method: "GET", path: "/Messages\\.json$", kind: "status", status: 503, times: 1 });
  await push(item);
  for (let i = 0; i < 20 && sentTo(item.to).length === 0; i++) if (!(await step(sender(from)))) await sender(from).drain();
  return { from, item, sms: sentTo(item.to)[0]! };
}

describe("Twilio failing while the bridge sends", () => {
  it("asks Twilio after a lost answer instead of sending a second SMS", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.faults.add({ ...SEND, kind: "lost", times: 1 });
    await push(item);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(1);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.deliveryReceipt.providerMessageId)).toEqual([sentTo(item.to)[0]!.sid]);
  });

  it("still reports DELIVERED when the lost answer's message was delivered before the bridge asked", async () => {
    // The carrier's news (callbacks included) comes before the bridge finds the message by
    // asking: the receipt must not be skipped.
    const { from, item, sms } = await sentWithLostAnswer();
    for (const status of ["sent", "delivered"]) await emu.twilio.sendStatus(sms.sid, status);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(1);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.status)).toEqual(["SENT", "DELIVERED"]);
  });

  it("reports an undelivered message's error code when the carrier's news comes only with the lost answer's lookup", async () => {
    const { from, item, sms } = await sentWithLostAnswer();
    // Twilio settles the message and its callback never arrives (a dropped callback): what the
    // bridge learns, it learns from finding the message in Twilio's list, error code included.
    setStatus(sms, "undelivered", 30003, Date.now());
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(1);
    const reports = emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode ?? null]);
    expect(reports).toEqual([["SENT", null], ["UNDELIVERABLE", "30003"]]);
  });

  it("reports DELIVERED, then READ, when the lost answer's message was read before the bridge asked (found by the soak)", async () => {
    // Twilio's record moved to read (WhatsApp) and every callback was lost: the lookup is all the
    // bridge learns. Recorded as "read" at once, it once got neither receipt and never settled.
    const { from, item, sms } = await sentWithLostAnswer();
    setStatus(sms, "delivered", undefined, Date.now());
    setStatus(sms, "read", undefined, Date.now());
    await settle(from);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.status)).toEqual(["SENT", "DELIVERED", "READ"]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'settled' AND twilio_status = 'read'", item.id)).toBe(1);
  });

  it("sends once after a 429 and then a 503 that Twilio did not commit", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.faults.add({ ...SEND, kind: "rate_limit", retryAfterSec: 2, times: 1 }, { ...SEND, kind: "status", status: 503, times: 1 });
    await push(item);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(1);
    expect(emu.twilio.faults.fired).toMatchObject({ rate_limit: 1, status: 1 });
  });

  it("honours Retry-After: the sender's next slot is pushed back", async () => {
    const from = senderNumber();
    emu.twilio.faults.add({ ...SEND, kind: "rate_limit", retryAfterSec: 30, times: 1 });
    const item = outboundItem({ from });
    await push(item);
    const before = Date.now();
    await settle(from);
    const [entry] = await sender(from).dispatchLog();
    expect(entry!.at).toBeGreaterThanOrEqual(before + 30_000);
  });

  it("does not resend when Twilio committed but answered after the bridge stopped waiting", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.faults.add({ ...SEND, kind: "lost_timeout", delayMs: 1_000, times: 1 });
    await push(item);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(1);
  });

  for (const twilioHadIt of [true, false]) {
    it(`after a restart mid-call, asks Twilio and ${twilioHadIt ? "adopts the message it has" : "sends the one it never got"}: one SMS`, async () => {
      const from = senderNumber();
      const item = outboundItem({ from });
      await push(item);
      // The object marked the send in flight and died before the answer came back.
      await runInDurableObject(sender(from), async (_instance, state) => {
        state.storage.sql.exec("UPDATE queue SET state = 'inflight', attempts = 1, attempt_at = ? WHERE id = ?", Date.now(), item.id);
      });
      if (twilioHadIt) {
        const created = await emu.twilio.app.fetch(
          new Request(`${B.TWILIO_API_BASE}/2010-04-01/Accounts/${B.TWILIO_ACCOUNT_SID}/Messages.json`, {
            method: "POST",
            headers: { authorization: `Basic ${btoa(`${B.TWILIO_ACCOUNT_SID}:${B.TWILIO_AUTH_TOKEN}`)}`, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ To: item.to, From: from, Body: item.body }),
          }),
        );
        expect(created.status).toBe(201);
      }
      await abortAllDurableObjects();
      await settle(from);
      expect(sentTo(item.to)).toHaveLength(1);
      expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.deliveryReceipt.providerMessageId)).toEqual([sentTo(item.to)[0]!.sid]);
    });
  }

  it("puts a number that Twilio reports unsubscribed (21610) on the suppression list and fails the message as OPTED_OUT", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.unsubscribe(item.to);
    await push(item);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(0);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "OPTED_OUT"]]);
    expect(await d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ?", item.to)).toBe(1);

    // The next reply to that number is refused before it reaches Twilio.
    const next = outboundItem({ from, to: item.to });
    await push(next);
    await settle(from);
    expect(emu.cxone.state.reports.get(next.id)?.map((r) => r.body.deliveryReceipt.errorCode)).toEqual(["OPTED_OUT"]);
    // Refused before it reached Twilio: never queued for sending, recorded as failed OPTED_OUT without a MessageSid.
    expect(await sender(from).inspect(next.id)).toBeUndefined();
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND state = 'failed' AND error_code = 'OPTED_OUT' AND message_sid IS NULL", next.id)).toBe(1);
  });

  it("reports a message Twilio refuses (400 21211) as FAILED with Twilio's code, once", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    emu.twilio.faults.add({ ...SEND, kind: "status", status: 400, body: { code: 21211, message: "Invalid 'To' Phone Number", status: 400 }, times: 1 });
    await push(item);
    await settle(from);
    expect(sentTo(item.to)).toHaveLength(0);
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "21211"]]);
  });
});
