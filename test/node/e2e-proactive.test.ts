import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { worstWindow } from "../../src/domain/outbound/bucket";
import type { EmuConversation as Conversation } from "../../emulators/cxone/state";
import type { EmulatedMessage as Sent } from "../../emulators/twilio/messages";
import { E2E, json, startE2E, until } from "./stack";

/**
 * SPEC §3–4 proactive messaging as a business system meets it: `wrangler dev`, real HTTP, the
 * emulators as Twilio and CXone. Quiet hours are set to the three hours around now in UTC, so
 * that numbers whose zone the bridge cannot tell (default zone UTC) are deferred, while Tokyo
 * numbers (UTC+9) are awake whatever the hour this runs.
 */
const hour = new Date().getUTCHours();
const hh = (h: number) => String((h + 24) % 24).padStart(2, "0");
const RATE = 50;
let stack: Awaited<ReturnType<typeof startE2E>>;
beforeAll(async () => {
  stack = await startE2E(19_787, {
    QUIET_HOURS: `${hh(hour - 1)}:00-${hh(hour + 2)}:00`,
    QUIET_HOURS_DEFAULT_TZ: "UTC",
    SENDER_MPS_OVERRIDES: JSON.stringify({ [E2E.TWILIO_FROM_NUMBER]: RATE }),
  });
}, 120_000);
afterAll(async () => {
  await stack?.cleanup();
});

let n = 0;
const tokyo = () => `+8190${String(10_000_000 + ++n)}`;
const unknownZone = () => `+1555${String(1_000_000 + ++n)}`;
const key = () => `e2e-${crypto.randomUUID()}`;
const auth = { "content-type": "application/json", authorization: `Bearer ${E2E.API_TOKEN}` };

const proactive = (body: unknown) => fetch(`${stack.bridgeUrl}/v1/proactive`, { method: "POST", headers: auth, body: JSON.stringify(body) });
const sent = () => json<Sent[]>(`${stack.twilioUrl}/_emu/messages`);
const conversation = (id: string) => json<Conversation>(`${stack.cxoneUrl}/_emu/conversations/${id}`);

async function reply(from: string, body: string) {
  const url = `${stack.bridgeUrl}/twilio/inbound`;
  const fields = { MessageSid: `SM${crypto.randomUUID().replace(/-/g, "")}`, AccountSid: E2E.TWILIO_ACCOUNT_SID, From: from, To: E2E.TWILIO_FROM_NUMBER, Body: body, NumMedia: "0" };
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(E2E.TWILIO_AUTH_TOKEN, url, fields) },
    body: new URLSearchParams(fields).toString(),
  });
  expect(res.status).toBe(200);
}

describe("proactive messages under wrangler dev", () => {
  it("opens a proactive conversation with the alert, texts it once, and threads the customer's reply into it", async () => {
    const to = tokyo();
    const request = { to, text: "Flight NH7 is cancelled. Reply YES to rebook.", campaignId: "irops", idempotencyKey: key(), from: E2E.TWILIO_FROM_NUMBER };
    const res = await proactive(request);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(answer.status).toBe("queued");
    // The same request again (a retry by the business system) is the same answer, nothing more.
    expect(await (await proactive(request)).json()).toEqual(answer);
    await until("the alert's SMS", async () => (await sent()).some((m) => m.to === to));
    await reply(to, "YES");
    const conv = await until("the reply in the alert's conversation", async () => {
      const c = await conversation(answer.conversationId);
      return c.messages.length === 2 ? c : undefined;
    });
    expect(conv.proactive).toBe(true);
    expect(conv.messages.map((m) => [m.direction, m.text])).toEqual([["outbound", request.text], ["inbound", "YES"]]);
    expect((await sent()).filter((m) => m.to === to)).toHaveLength(1);
  });

  it("takes a batch at once, drains it within the sender's rate, defers quiet-hours recipients, and counts by state", async () => {
    const awake = Array.from({ length: 60 }, () => ({ to: tokyo(), text: `Your appointment is tomorrow (${n})`, idempotencyKey: key() }));
    const asleep = Array.from({ length: 3 }, () => ({ to: unknownZone(), text: "Reminder", idempotencyKey: key() }));
    const started = Date.now();
    const res = await proactive({ campaignId: "appointments", from: E2E.TWILIO_FROM_NUMBER, messages: [...awake, ...asleep, { to: "555-0100", text: "x", idempotencyKey: key() }] });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000);
    const { batchId, accepted, refused } = (await res.json()) as { batchId: string; accepted: number; refused: { to: string; reason: string }[] };
    expect([accepted, refused]).toEqual([63, [{ to: "555-0100", reason: "invalid_number" }]]);

    const status = () => json<{ total: number; counts: Record<string, number> }>(`${stack.bridgeUrl}/v1/proactive/batches/${batchId}`, { headers: auth });
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

    const texts = (await sent()).filter((m) => awake.some((a) => a.to === m.to));
    expect(texts).toHaveLength(60);
    expect(new Set(texts.map((m) => m.to)).size).toBe(60);
    expect(worstWindow(texts.map((m) => ({ at: m.receivedAt, segments: 1 })), RATE)).toBeLessThanOrEqual(RATE);
    expect((await sent()).filter((m) => asleep.some((a) => a.to === m.to))).toEqual([]);
  }, 150_000);
});
