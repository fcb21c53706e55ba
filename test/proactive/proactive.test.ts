import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { reconcile } from "../../src/domain/reconcile";
import { reconcileDeps } from "../../src/deps";
import { requireConfig } from "../../src/config";
import { worstWindow } from "../../src/domain/outbound/bucket";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, postInbound, thread } from "../support/inbound";
import { sender, senderNumber, settle, syncToD1 } from "../support/outbound";
import { step } from "../support/clock";
import type { Clock } from "../../src/do/storage";
import { awakeNumbers } from "../support/awake";

const emu = useEmulators();
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// 500 segments/s each in the test configuration. FAST serves the tests that move the wall clock
// (its bucket remembers the time it was last used); BULK those that run in real time.
const FAST = "+15550009000";
const BULK = "+15550009001";
let n = 0;
/** A New York number (area code 212): quiet hours follow New York time. */
const nyNumber = () => `+1212555${String(1000 + (++n % 9000)).padStart(4, "0")}`;
const key = () => `key-${crypto.randomUUID()}`;

function proactive(body: unknown, token: string | null = B.API_TOKEN) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }));
}
const batchStatus = async (id: string) => (await (await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/v1/proactive/batches/${id}`, { headers: { authorization: `Bearer ${B.API_TOKEN}` } }))).json()) as {
  total: number;
  counts: Record<string, number>;
};
/** The wall clock set to `hour`:`minute` UTC today, and running on from there (the rate bucket needs time to pass). */
function atUtc(hour: number, minute = 0) {
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, advanceTimeDelta: 5 });
  const now = new Date();
  now.setUTCHours(hour, minute, 0, 0);
  vi.setSystemTime(now);
}
/** 16:00 UTC = noon in New York: outside quiet hours. */
const atNoonInNewYork = () => atUtc(16);

/** One awake recipient, never one of the batch test's 0000–0999. */
const awakeNumber = () => awakeNumbers()(5_000 + (++n % 5_000));

describe("POST /v1/proactive", () => {
  it("needs the API token", async () => {
    expect((await proactive({}, null)).status).toBe(401);
    expect((await proactive({}, "wrong")).status).toBe(401);
    expect((await proactive({}, B.ADMIN_TOKEN)).status).toBe(401);
  });

  it.each([
    ["no text", { to: "+12125550100", campaignId: "c", idempotencyKey: "k" }, "text"],
    ["a non-E.164 number", { to: "2125550100", text: "x", campaignId: "c", idempotencyKey: "k" }, "to"],
    ["no idempotency key", { to: "+12125550100", text: "x", campaignId: "c" }, "idempotencyKey"],
    ["an unknown field", { to: "+12125550100", text: "x", campaignId: "c", idempotencyKey: "k", extra: 1 }, "extra"],
    ["custom fields that are objects", { to: "+12125550100", text: "x", campaignId: "c", idempotencyKey: "k", customFields: { a: { b: 1 } } }, "customFields"],
    ["an empty batch", { campaignId: "c", messages: [] }, "messages"],
  ])("answers %s with 400 naming the problem", async (_name, body, named) => {
    const res = await proactive(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(named);
  });

  it("starts a proactive conversation that shows the alert, sends the SMS, and threads the reply into it", async () => {
    atNoonInNewYork();
    const to = nyNumber();
    const res = await proactive({ to, text: "Your flight UA123 is cancelled. Reply to rebook.", campaignId: "irops", idempotencyKey: key(), from: FAST, customFields: { flight: "UA123" } });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { conversationId: string; messageId: string; status: string };
    expect(answer.status).toBe("queued");
    const conv = emu.cxone.conversation(answer.conversationId)!;
    expect(conv).toMatchObject({ proactive: true, initiatedBy: "business", customer: to, properties: { campaign_id: "irops", business_number: FAST, flight: "UA123" } });
    expect(conv.messages.map((m) => [m.direction, m.text])).toEqual([["outbound", "Your flight UA123 is cancelled. Reply to rebook."]]);
    await settle(FAST);
    const sms = emu.twilio.messages().filter((m) => m.to === to);
    expect(sms.map((m) => [m.from, m.body])).toEqual([[FAST, "Your flight UA123 is cancelled. Reply to rebook."]]);
    expect(emu.cxone.state.reports.get(answer.messageId)?.map((r) => r.body.status)).toEqual(["SENT"]);

    vi.useRealTimers();
    await postInbound(inboundFields({ From: to, To: FAST, Body: "Yes please rebook" }));
    await thread(to, FAST).deliver();
    expect(emu.cxone.conversationsOf(to)).toHaveLength(1);
    expect(conv.messages.map((m) => m.text)).toEqual(["Your flight UA123 is cancelled. Reply to rebook.", "Yes please rebook"]);
  });

  it("threads the reply into the alert's conversation even when the customer already had one open", async () => {
    const to = awakeNumber();
    await postInbound(inboundFields({ From: to, To: BULK, Body: "hello, earlier question" }));
    await thread(to, BULK).deliver();
    const [earlier] = emu.cxone.conversationsOf(to);
    const { conversationId } = (await (await proactive({ to, text: "Your card was used abroad. Was it you?", campaignId: "fraud", idempotencyKey: key(), from: BULK })).json()) as { conversationId: string };
    expect(conversationId).not.toBe(earlier!.id);
    await settle(BULK);
    // The customer answers the alert later than a second after their earlier text: a busy thread
    // looks for a newer proactive conversation once a second (README), and its own alarm, racing
    // the explicit delivery below, once delivered this answer inside that second, to the old one.
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 2_000);
    await postInbound(inboundFields({ From: to, To: BULK, Body: "No it was not me" }));
    await thread(to, BULK).deliver();
    expect(emu.cxone.conversation(conversationId)!.messages.map((m) => m.text)).toEqual(["Your card was used abroad. Was it you?", "No it was not me"]);
    expect(earlier!.messages.map((m) => m.text)).toEqual(["hello, earlier question"]);
  });

  it("answers the same idempotency key with the first answer and sends nothing more, also when concurrent", async () => {
    atNoonInNewYork();
    const to = nyNumber();
    const body = { to, text: "appointment tomorrow 9:00", campaignId: "appt", idempotencyKey: key(), from: FAST };
    const answers = await Promise.all([proactive(body), proactive(body), proactive(body)].map(async (r) => (await r).json()));
    const again = await (await proactive(body)).json();
    for (const a of [...answers, again]) expect(a).toEqual(answers[0]);
    await settle(FAST);
    expect(emu.cxone.conversationsOf(to)).toHaveLength(1);
    expect(emu.twilio.messages().filter((m) => m.to === to)).toHaveLength(1);
  });

  it("refuses a suppressed recipient and reports why", async () => {
    atNoonInNewYork();
    const to = nyNumber();
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES (?, ?, 'test', 0)").bind(FAST, to).run();
    const answer = await (await proactive({ to, text: "sale!", campaignId: "promo", idempotencyKey: key(), from: FAST })).json();
    expect(answer).toEqual({ conversationId: null, messageId: null, status: "refused", reason: "opted_out" });
    expect(emu.cxone.conversationsOf(to)).toEqual([]);
  });

  it("defers a send that falls in the recipient's quiet hours to 08:00 their time, and sends it then", async () => {
    atUtc(3, 30); // 22:30 or 23:30 in New York
    const to = nyNumber();
    const answer = (await (await proactive({ to, text: "fraud alert", campaignId: "fraud", idempotencyKey: key(), from: FAST })).json()) as { status: string; sendAt: string; messageId: string };
    expect(answer.status).toBe("deferred");
    const sendAt = new Date(answer.sendAt);
    expect(new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(sendAt)).toBe("08:00");
    expect(emu.cxone.conversationsOf(to)).toHaveLength(1);
    await settle(FAST);
    // One SMS, the alert itself (the dispatch log below says when it left).
    const sms = emu.twilio.messages().filter((m) => m.to === to);
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ body: "fraud alert", from: FAST });
    const log = await sender(FAST).dispatchLog();
    expect(log.find((l) => l.id === answer.messageId)!.at).toBeGreaterThanOrEqual(sendAt.getTime());
  });
});

describe("proactive batches", () => {
  it("answers 202 for 1,000 recipients, refuses the bad ones by name, drains at the rate, and the counts add up", async () => {
    const number = awakeNumbers();
    const good = Array.from({ length: 1_000 }, (_, i) => ({ to: number(i), text: `notice ${i}`, idempotencyKey: key() }));
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES ('*', ?, 'test', 0)").bind(good[7]!.to).run();
    const bad = [{ to: "12345", text: "x", idempotencyKey: key() }, { ...good[3]! }];
    const started = Date.now();
    const res = await proactive({ campaignId: "bulk", from: BULK, messages: [...good, ...bad] });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000);
    const body = (await res.json()) as { batchId: string; accepted: number; refused: { to: string; reason: string }[] };
    // The first use of a key wins; its repeat and the other two are refused.
    expect(body.accepted).toBe(999);
    expect(body.refused).toEqual(expect.arrayContaining([{ to: "12345", reason: "invalid_number" }, { to: good[3]!.to, reason: "duplicate_idempotency_key" }, { to: good[7]!.to, reason: "opted_out" }]));

    // A restart mid-drain: the batch and the sender lose their memory, not their work.
    await env.BATCH.getByName(body.batchId).stats();
    await abortAllDurableObjects();
    await env.BATCH.getByName(body.batchId).drain();
    while ((await env.BATCH.getByName(body.batchId).stats()).pending > 0) await env.BATCH.getByName(body.batchId).drain();
    await settle(BULK, 5_000);

    const sms = emu.twilio.messages().filter((m) => m.from === BULK && m.body.startsWith("notice "));
    expect(new Set(sms.map((m) => m.to)).size).toBe(999);
    expect(sms).toHaveLength(999);
    const dispatched = await sender(BULK).dispatchLog(5_000);
    expect(worstWindow(dispatched, 500)).toBeLessThanOrEqual(500);

    const status = await batchStatus(body.batchId);
    expect(status.total).toBe(1_002);
    expect(Object.values(status.counts).reduce((a, b) => a + b, 0)).toBe(1_002);
    expect(status.counts).toMatchObject({ refused: 3, sent: 999, queued: 0, deferred: 0 });
    const delivered = sms.slice(0, 10);
    for (const m of delivered) await emu.twilio.sendStatus(m.sid, "delivered");
    // The sender holds the statuses and writes them to D1 behind (within a second, or its next pass).
    await syncToD1(BULK);
    expect((await batchStatus(body.batchId)).counts).toMatchObject({ delivered: 10, sent: 989 });
  }, 120_000);

  it("counts recipients deferred by quiet hours as deferred", async () => {
    atUtc(5, 30);
    // A sender of its own: these two stay queued until morning and must not hold up FAST's tests.
    const res = await proactive({ campaignId: "night", from: senderNumber(), messages: [{ to: nyNumber(), text: "a", idempotencyKey: key() }, { to: "+13105550123", text: "b", idempotencyKey: key() }] });
    const { batchId } = (await res.json()) as { batchId: string };
    await env.BATCH.getByName(batchId).drain();
    // 05:30 UTC: 00:30 in New York, 21:30 in Los Angeles (an hour later each in summer): both quiet.
    expect((await batchStatus(batchId)).counts).toMatchObject({ deferred: 2, queued: 0 });
  });
});

describe("ghost threads", () => {
  const config = () => requireConfig(env);
  const reconcileAt = (ms: number) => reconcile(reconcileDeps(env, config()), { now: ms, recheckMs: 600_000 });
  const HOUR = 3600_000;
  /** The sender's clock moved to `at`, and its pass run there. */
  const senderAt = async (from: string, at: number) => {
    await runInDurableObject(sender(from), (instance) => (instance as unknown as { clock: Clock }).clock.skipTo(at));
    await sender(from).drain();
  };
  const alert = async (from: string, to = awakeNumber()) =>
    ((await (await proactive({ to, text: "ping", campaignId: "idle", idempotencyKey: key(), from })).json()) as { conversationId: string }).conversationId;
  const status = (id: string) => emu.cxone.conversation(id)!.status;

  it("its sender closes the conversations nobody answered after PROACTIVE_IDLE_CLOSE_HOURS, 50 a pass, with no Cron", async () => {
    const from = senderNumber();
    const ids = await Promise.all(Array.from({ length: 60 }, () => alert(from)));
    await settle(from);
    const sent = Date.now();
    await senderAt(from, sent + 23 * HOUR);
    expect(ids.map(status).every((s) => s === "active")).toBe(true);
    await runInDurableObject(sender(from), (instance) => (instance as unknown as { clock: Clock }).clock.skipTo(sent + 25 * HOUR));
    await sender(from).drain();
    expect(ids.filter((id) => status(id) === "closed")).toHaveLength(50);
    // The alarm comes straight back for the rest.
    expect(await step(sender(from))).toBe(true);
    expect(ids.map(status).every((s) => s === "closed")).toBe(true);
    expect(await d1Count(`SELECT COUNT(*) AS n FROM conversations WHERE status = 'closed' AND id IN (${ids.map(() => "?").join(",")})`, ...ids)).toBe(60);
  });

  it("keeps it open when the customer replied in time", async () => {
    const from = senderNumber();
    const to = awakeNumber();
    const conversationId = await alert(from, to);
    await settle(from);
    const sent = Date.now();
    await postInbound(inboundFields({ From: to, To: from, Body: "pong" }));
    await thread(to, from).deliver();
    await senderAt(from, sent + 25 * HOUR);
    await reconcileAt(sent + 27 * HOUR);
    expect(status(conversationId)).toBe("active");
  });

  it("is closed by the Cron only an hour after it was due: until then it is its sender's", async () => {
    const from = senderNumber();
    const conversationId = await alert(from);
    await settle(from);
    const { closeAt } = (await env.DB.prepare("SELECT idle_close_at AS closeAt FROM conversations WHERE id = ?").bind(conversationId).first<{ closeAt: number }>())!;
    await reconcileAt(closeAt + 59 * 60_000);
    expect(status(conversationId)).toBe("active");
    let closed = 0;
    for (let r = await reconcileAt(closeAt + 61 * 60_000); r.idleClosed > 0; r = await reconcileAt(closeAt + 61 * 60_000)) closed += r.idleClosed;
    expect(closed).toBeGreaterThanOrEqual(1);
    expect(status(conversationId)).toBe("closed");
    // Its sender then finds it closed and forgets it, without closing it in CXone again.
    const closes = () => emu.cxone.state.calls["PUT /api/v2/conversations/:id"] ?? 0;
    const before = closes();
    await senderAt(from, closeAt + 2 * HOUR);
    expect(closes()).toBe(before);
  });
});
