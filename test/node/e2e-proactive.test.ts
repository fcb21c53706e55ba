import { describe, expect, it } from "vitest";
import { worstWindow } from "../../src/domain/outbound/bucket";
import { E2E, json, MODES, until, useE2E } from "./stack";

/**
 * contract §3–4 and §8 proactive messaging as a business system meets it, in both CXone dialects:
 * `wrangler dev`, real HTTP, the emulators as Twilio and CXone. Quiet hours are set to the three
 * hours around now in UTC, so that numbers whose zone the bridge cannot tell (default zone UTC)
 * are deferred, while Tokyo numbers (UTC+9) are awake whatever the hour this runs.
 */
const hour = new Date().getUTCHours();
const hh = (h: number) => String((h + 24) % 24).padStart(2, "0");
const RATE = 50;

let n = 0;
const tokyo = () => `+8190${String(10_000_000 + ++n)}`;
const unknownZone = () => `+1555${String(1_000_000 + ++n)}`;
const key = () => `e2e-${crypto.randomUUID()}`;
const auth = { "content-type": "application/json", authorization: `Bearer ${E2E.API_TOKEN}` };

describe.each(MODES)("%s: proactive messages under wrangler dev", (mode) => {
  const e = useE2E(mode, 1, {
    QUIET_HOURS: `${hh(hour - 1)}:00-${hh(hour + 2)}:00`,
    QUIET_HOURS_DEFAULT_TZ: "UTC",
    SENDER_MPS_OVERRIDES: JSON.stringify({ [E2E.TWILIO_FROM_NUMBER]: RATE }),
  });
  const proactive = (body: unknown) => fetch(`${e.stack.bridgeUrl}/v1/proactive`, { method: "POST", headers: auth, body: JSON.stringify(body) });

  it("opens a proactive conversation with the alert, texts it once, and threads the customer's reply into it", async () => {
    const to = tokyo();
    const request = { to, text: "Flight NH7 is cancelled. Reply YES to rebook.", campaignId: "irops", idempotencyKey: key(), from: E2E.TWILIO_FROM_NUMBER };
    const res = await proactive(request);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(answer.status).toBe("queued");
    // The same request again (a retry by the business system) is the same answer, nothing more.
    expect(await (await proactive(request)).json()).toEqual(answer);
    const [sms] = await until("the alert's SMS", async () => ((await e.tw.sentTo(to)).length > 0 ? e.tw.sentTo(to) : undefined));
    expect(sms).toMatchObject({ body: request.text, from: E2E.TWILIO_FROM_NUMBER });
    expect(await e.tw.text(to, "YES")).toBe(200);
    const conv = await until("the reply in the alert's conversation", async () => {
      const c = (await e.cx.conversationsOf(to)).find((x) => x.ids.includes(answer.conversationId));
      return c?.messages.length === 2 ? c : undefined;
    });
    expect(await e.cx.conversationsOf(to)).toHaveLength(1);
    expect(conv).toMatchObject({ proactive: true, campaignId: "irops" });
    expect(conv.messages.map((m) => [m.direction, m.text])).toEqual([["outbound", request.text], ["inbound", "YES"]]);
    expect(conv.messages[0]!.id).toBe(answer.messageId);
    // The alert's receipts go to the message the answer named.
    const receipts = await until("the alert's DELIVERED receipt", async () => {
      const got = await e.cx.receiptsOf(answer.messageId);
      return got.some((r) => r.status === e.cx.wire(["DELIVERED"])[0]) ? got : undefined;
    });
    expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "DELIVERED"]));
    expect(await e.tw.sentTo(to)).toHaveLength(1);
  });

  it("takes a batch at once, drains it within the sender's rate, defers quiet-hours recipients, and counts by state", async () => {
    const awake = Array.from({ length: 60 }, () => ({ to: tokyo(), text: `Your appointment is tomorrow (${n})`, idempotencyKey: key() }));
    const asleep = Array.from({ length: 3 }, () => ({ to: unknownZone(), text: "Reminder", idempotencyKey: key() }));
    const started = Date.now();
    const res = await proactive({ campaignId: "appointments", from: E2E.TWILIO_FROM_NUMBER, messages: [...awake, ...asleep, { to: "555-0100", text: "x", idempotencyKey: key() }] });
    expect(res.status).toBe(202);
    // The bound the bench holds a 100,000-recipient batch to (202 within 5 s): CI runs this beside the
    // soaks and two workerd suites on 2 cores, where 64 recipients once took 2.4 s.
    expect(Date.now() - started).toBeLessThan(5_000);
    const { batchId, accepted, refused } = (await res.json()) as { batchId: string; accepted: number; refused: { to: string; reason: string }[] };
    expect([accepted, refused]).toEqual([63, [{ to: "555-0100", reason: "invalid_number" }]]);

    const status = () => json<{ total: number; counts: Record<string, number> }>(`${e.stack.bridgeUrl}/v1/proactive/batches/${batchId}`, { headers: auth });
    // 60 sends and their ~240 status callbacks load one local workerd for a while: a status
    // read that times out in that rush is read again, within the same overall deadline.
    let last: unknown;
    const done = await until(
      "the batch to drain",
      async () => {
        const s = await status().catch(() => undefined);
        if (!s) return undefined;
        last = s;
        return s.counts.queued === 0 && s.counts.deferred === 3 && (s.counts.sent ?? 0) + (s.counts.delivered ?? 0) === 60 ? s : undefined;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last status ${JSON.stringify(last)}`);
    });
    expect(done.total).toBe(64);
    expect(Object.values(done.counts).reduce((a, b) => a + b, 0)).toBe(64);

    const texts = (await e.tw.sent()).filter((m) => awake.some((a) => a.to === m.to));
    expect(texts).toHaveLength(60);
    expect(new Set(texts.map((m) => m.to)).size).toBe(60);
    // The rate is the bridge's promise about its own sends: judged on the sender's dispatch log.
    // Arrival times at the emulator add the loaded machine's jitter (one run saw 55 in a second
    // at the emulator while the bridge had sent at most 42), which is not the bridge's to keep.
    const admin = { headers: { authorization: `Bearer ${E2E.ADMIN_TOKEN}` } };
    const { sent } = await json<{ sent: { id: string; at: number; segments: number }[] }>(`${e.stack.bridgeUrl}/admin/senders/${encodeURIComponent(E2E.TWILIO_FROM_NUMBER)}`, admin);
    const batchSends = sent.filter((s) => s.at >= started);
    expect(batchSends).toHaveLength(60);
    expect(worstWindow(batchSends, RATE)).toBeLessThanOrEqual(RATE);
    expect((await e.tw.sent()).filter((m) => asleep.some((a) => a.to === m.to))).toEqual([]);
  }, 150_000);
});
