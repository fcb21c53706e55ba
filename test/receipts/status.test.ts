import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, postTwilio } from "../support/inbound";
import { liveState, outboundItem, pusher, sender, senderNumber, settle, syncToD1 } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);

/** A reply sent through Twilio; returns its ids. */
async function sent(over: Parameters<typeof outboundItem>[0] = {}) {
  const from = senderNumber();
  const item = outboundItem({ from, ...over });
  await push(item);
  await settle(from);
  const message = emu.twilio.messages().find((m) => m.to === item.to && m.body === item.body)!;
  return { item, sid: message.sid, from };
}

const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => [r.body.status, r.body.deliveryReceipt.errorCode ?? null]);
/** Twilio's status and the state, where the lifecycle lives: the sender object. */
const twilioStatus = async (id: string) => {
  const { s, state } = await liveState(id);
  return { s, state };
};
const callback = (sid: string, status: string, errorCode?: number) => emu.twilio.sendStatus(sid, status, errorCode);

describe("Twilio status callbacks", () => {
  it("walks a message forward and turns only the final state into a receipt", async () => {
    const { item, sid } = await sent();
    for (const status of ["queued", "sending", "sent"]) {
      expect(await callback(sid, status)).toBe(200);
      expect((await twilioStatus(item.id)).s).toBe(status);
      expect(reports(item.id)).toEqual([["SENT", null]]);
    }
    expect(await callback(sid, "delivered")).toBe(200);
    expect(await twilioStatus(item.id)).toEqual({ s: "delivered", state: "settled" });
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    expect(emu.cxone.state.reports.get(item.id)![1]!.body.deliveryReceipt.providerMessageId).toBe(sid);
  });

  it("ignores a duplicate final callback: one receipt", async () => {
    const { item, sid } = await sent();
    await callback(sid, "delivered");
    await callback(sid, "delivered");
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
  });

  it("never moves a message back: delivered, then a late sending and sent", async () => {
    const { item, sid } = await sent();
    await callback(sid, "delivered");
    await callback(sid, "sending");
    await callback(sid, "sent");
    expect((await twilioStatus(item.id)).s).toBe("delivered");
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
  });

  it("lets read follow delivered, with a READ receipt after DELIVERED; nothing moves it back", async () => {
    const { item, sid } = await sent();
    await callback(sid, "delivered");
    await callback(sid, "read");
    await callback(sid, "delivered");
    await callback(sid, "read");
    expect((await twilioStatus(item.id)).s).toBe("read");
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
  });

  it("takes a read that comes before its delivery report as delivered, then read", async () => {
    const { item, sid } = await sent();
    await callback(sid, "read");
    await callback(sid, "delivered");
    expect((await twilioStatus(item.id)).s).toBe("read");
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
  });

  it("finishes a delivery cut short (moved to delivered, no receipt yet) before READ, when read comes next (found by the soak)", async () => {
    const { item, sid, from } = await sent();
    // An object that died between moving the message to delivered and queueing its receipt.
    await runInDurableObject(sender(from), (_i, state) => state.storage.sql.exec("UPDATE queue SET twilio_status = 'delivered' WHERE sid = ?", sid));
    await callback(sid, "read");
    expect(await twilioStatus(item.id)).toEqual({ s: "read", state: "settled" });
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
  });

  it("takes concurrent delivered and read callbacks as DELIVERED, then READ (found by the soak)", async () => {
    const { item, sid } = await sent();
    await Promise.all([callback(sid, "delivered"), callback(sid, "read")]);
    await expect.poll(() => reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null], ["READ", null]]);
    expect(await twilioStatus(item.id)).toEqual({ s: "read", state: "settled" });
  });

  it("never reports READ for a message that failed", async () => {
    const { item, sid } = await sent();
    await callback(sid, "undelivered", 30003);
    await callback(sid, "read");
    expect(reports(item.id)).toEqual([["SENT", null], ["UNDELIVERABLE", "30003"]]);
  });

  it.each([
    ["undelivered", 30003, "UNDELIVERABLE"],
    ["failed", 30007, "FAILED"],
    ["canceled", undefined, "FAILED"],
  ] as const)("reports %s (%s) as %s, carrying the Twilio error code", async (status, code, receipt) => {
    const { item, sid } = await sent();
    await callback(sid, "sent");
    await callback(sid, status, code);
    expect(reports(item.id)).toEqual([["SENT", null], [receipt, code === undefined ? null : String(code)]]);
    // A final state is final: delivered afterwards changes nothing.
    await callback(sid, "delivered");
    expect((await twilioStatus(item.id)).s).toBe(status);
  });

  it("refuses a forged callback with 403 and changes nothing", async () => {
    const { item, sid } = await sent();
    const res = await postTwilio(
      "/twilio/status",
      { MessageSid: sid, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID },
      { token: "forged-token" },
    );
    expect(res.status).toBe(403);
    expect((await twilioStatus(item.id)).s).not.toBe("delivered");
    expect(reports(item.id)).toEqual([["SENT", null]]);
  });

  it("answers 200 for a MessageSid it does not know, and keeps it for the reconciler", async () => {
    const unknown = `SM${"ab".repeat(16)}`;
    const res = await postTwilio("/twilio/status", { MessageSid: unknown, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID });
    expect(res.status).toBe(200);
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ? AND matched = 0", unknown)).toBe(1);
  });

  it("answers a callback with a bad status with 200, logs it as unusable and applies nothing", async () => {
    const { item, sid } = await sent();
    const before = await twilioStatus(item.id);
    const events0 = await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ?", sid);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const res = await postTwilio("/twilio/status", { MessageSid: sid, MessageStatus: "exploded", AccountSid: B.TWILIO_ACCOUNT_SID });
    const events = warn.mock.calls.flatMap(([line]) => {
      try {
        return [JSON.parse(String(line)) as { event: string; messageSid?: string }];
      } catch {
        return [];
      }
    });
    warn.mockRestore();
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<Response></Response>");
    expect(events).toContainEqual(expect.objectContaining({ event: "status.unusable", messageSid: sid }));
    expect(await twilioStatus(item.id)).toEqual(before);
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ?", sid)).toBe(events0);
    expect(reports(item.id)).toEqual([["SENT", null]]);
  });

  it("sends once more after a carrier filtering error (30008), through the bucket, then fails", async () => {
    const { item, sid, from } = await sent();
    await callback(sid, "undelivered", 30008);
    expect(reports(item.id)).toEqual([["SENT", null]]);
    await settle(from);
    const attempts = emu.twilio.messages().filter((m) => m.to === item.to);
    expect(attempts).toHaveLength(2);
    const second = attempts[1]!.sid;
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ? AND message_sid = ? AND carrier_retries = 1", item.id, second)).toBe(1);
    await callback(second, "undelivered", 30008);
    await settle(from);
    expect(emu.twilio.messages().filter((m) => m.to === item.to)).toHaveLength(2);
    expect(reports(item.id)).toEqual([["SENT", null], ["UNDELIVERABLE", "30008"]]);
  });

  it("suppresses D1's customer on a 21610 for a message its sender queued before it kept the recipient (and whose body is gone)", async () => {
    const { item, sid, from } = await sent();
    await runInDurableObject(sender(from), (_i, state) => state.storage.sql.exec("UPDATE queue SET customer = NULL, payload = NULL WHERE sid = ?", sid));
    await callback(sid, "failed", 21610);
    expect(await d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ?", item.to)).toBe(1);
    expect(reports(item.id)).toEqual([["SENT", null], ["FAILED", "21610"]]);
  });

  it("puts the number on the suppression list when a callback says 21610", async () => {
    const { item, sid } = await sent();
    await callback(sid, "failed", 21610);
    expect(await d1Count("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ?", item.to)).toBe(1);
    expect(reports(item.id)).toEqual([["SENT", null], ["FAILED", "21610"]]);
  });

  it("takes callbacks in the sender object, by the keys in their URL: D1 gets the final state later, in one write", async () => {
    const { item, sid, from } = await sent();
    const d1 = () => env.DB.prepare("SELECT state, twilio_status AS s, updated_at AS at FROM messages WHERE cxone_message_id = ?").bind(item.id).first<{ state: string; s: string; at: number }>();
    const before = (await d1())!;
    expect(before.state).toBe("submitted");
    const url = emu.twilio.messages().find((m) => m.sid === sid)!.status_callback!;
    expect(new URL(url).searchParams.get("o")).toBe(from);
    expect(new URL(url).searchParams.get("m")).toBe(item.id);
    for (const status of ["sending", "sent", "delivered"]) await callback(sid, status);
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    // Nothing of it in D1 yet: no callback row, no lookup by SID, no update.
    expect(await d1()).toEqual(before);
    expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ?", sid)).toBe(0);
    await syncToD1(from);
    expect(await d1()).toMatchObject({ state: "settled", s: "delivered" });
  });

  it("routes a callback without keys (a send from before them) through D1's SID mapping to its sender", async () => {
    const { item, sid } = await sent();
    const res = await postTwilio("/twilio/status", { MessageSid: sid, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID });
    expect(res.status).toBe(200);
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    expect(await twilioStatus(item.id)).toEqual({ s: "delivered", state: "settled" });
  });

  it.each([
    ["empty keys", "?o=&m="],
    ["an oversized sender key", `?o=${"x".repeat(200)}&m=ID`],
    ["a sender that never had the message", "?o=%2B15550009999&m=ID"],
    ["another message's id", "?o=FROM&m=someone-else"],
  ])("applies a signed callback whose routing keys are unusable (%s) through D1's SID mapping, never refused", async (_name, query) => {
    const { item, sid, from } = await sent();
    const path = `/twilio/status${query.replace("ID", item.id).replace("FROM", encodeURIComponent(from))}`;
    const res = await postTwilio(path, { MessageSid: sid, MessageStatus: "delivered", AccountSid: B.TWILIO_ACCOUNT_SID });
    expect(res.status).toBe(200);
    expect(reports(item.id)).toEqual([["SENT", null], ["DELIVERED", null]]);
    expect(await twilioStatus(item.id)).toEqual({ s: "delivered", state: "settled" });
  });
});
