import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import { DFO_BINDINGS as D } from "../support/bindings";
import { threadOf, useDfoEmulators, worker } from "../support/dfo";
import { inboundFields, postInbound, thread } from "../support/inbound";
import { settle } from "../support/outbound";

/**
 * contract §8 "Proactive in this mode": the alert is posted into the customer's thread on the
 * sender's channel (direction outbound, the bridge's id, the campaign and the caller's fields as
 * contact custom fields), sent through the same buckets, reported by status; the answer lands in
 * the same thread; nobody answering closes the contact.
 */
const emu = useDfoEmulators();
const MAIN = "+15550001000";
const HOUR = 3_600_000;
let n = 0;
/** Tokyo numbers are outside quiet hours whatever the hour in UTC… but the bindings turn them off anyway. */
const recipient = () => `+8190${String(40_000_000 + ++n)}`;
const proactive = (body: unknown) =>
  worker("/v1/proactive", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${D.API_TOKEN}` }, body: JSON.stringify(body) });
const reconcileAt = (ms: number) => reconcile(reconcileDeps(env, requireConfig(env)), { now: Date.now() + ms, recheckMs: 600_000 });

describe("a proactive alert in DFO mode", () => {
  it("is posted into the customer's thread with its campaign and fields, sent once, reported, and answered in the same thread", async () => {
    const to = recipient();
    const res = await proactive({ to, text: "Flight NH7 is cancelled. Reply YES to rebook.", campaignId: "irops", idempotencyKey: `k-${to}`, from: MAIN, customFields: { pnr: "ABC123", priority: 2 } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(["queued", "deferred"]).toContain(answer.status);
    const t = threadOf(emu, "chat_main", to)!;
    expect(t.messages[0]).toMatchObject({ direction: "outbound", idOnExternalPlatform: answer.messageId, text: "Flight NH7 is cancelled. Reply YES to rebook." });
    expect(t.messages[0]!.customFields).toEqual(expect.arrayContaining([{ ident: "campaignId", value: "irops" }, { ident: "pnr", value: "ABC123" }, { ident: "priority", value: "2" }]));
    expect(answer.conversationId).toBe(t.contactIds[0]);
    if (answer.status === "queued") {
      await settle(MAIN);
      const [sms] = emu.twilio.messages().filter((m) => m.to === to);
      await emu.twilio.sendStatus(sms!.sid, "delivered");
      expect(emu.dfo.state.statuses.get(answer.messageId)?.map((s) => s.status)).toEqual(["delivered"]);
    }
    // The same request again is the same answer, nothing more.
    expect(await (await proactive({ to, text: "Flight NH7 is cancelled. Reply YES to rebook.", campaignId: "irops", idempotencyKey: `k-${to}`, from: MAIN })).json()).toEqual(answer);
    expect(threadOf(emu, "chat_main", to)!.messages).toHaveLength(1);

    await postInbound(inboundFields({ From: to, To: MAIN, Body: "YES" }));
    await thread(to, MAIN).deliver();
    expect(threadOf(emu, "chat_main", to)!.messages.map((m) => [m.direction, m.text])).toEqual([
      ["outbound", "Flight NH7 is cancelled. Reply YES to rebook."],
      ["inbound", "YES"],
    ]);
    // Answered: no idle close.
    await reconcileAt(25 * HOUR);
    expect(emu.dfo.state.contacts.get(answer.conversationId)?.status).toBe("open");
  });

  it("closes the alert's contact when nobody answers for PROACTIVE_IDLE_CLOSE_HOURS", async () => {
    const to = recipient();
    const res = await proactive({ to, text: "Your gate changed to B12", campaignId: "gates", idempotencyKey: `k-${to}`, from: MAIN });
    const { conversationId } = (await res.json()) as { conversationId: string };
    await reconcileAt(12 * HOUR);
    expect(emu.dfo.state.contacts.get(conversationId)?.status).toBe("open");
    await reconcileAt(49 * HOUR);
    expect(emu.dfo.state.contacts.get(conversationId)?.status).toBe("closed");
  });

  it("posts every recipient of a batch into its own thread", async () => {
    const recipients = Array.from({ length: 3 }, () => recipient());
    const res = await proactive({ campaignId: "bulk", from: MAIN, messages: recipients.map((to) => ({ to, text: `hello ${to}`, idempotencyKey: `b-${to}` })) });
    expect(res.status).toBe(202);
    const { batchId } = (await res.json()) as { batchId: string };
    await env.BATCH.getByName(batchId).drain();
    for (const to of recipients) expect(threadOf(emu, "chat_main", to)?.messages.map((m) => m.text)).toEqual([`hello ${to}`]);
  });
});
