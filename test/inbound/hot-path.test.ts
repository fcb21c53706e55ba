import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { TEST_BINDINGS as B } from "../support/bindings";
import { idle, step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { database } from "../../src/adapters/db/client";
import { recordInbound, type InboundRow } from "../../src/adapters/db/inbound";

/**
 * Issue 12, goal 1: a text is durable in its thread's object when Twilio gets its 200, with no D1
 * statement on the way; D1 gets one write per text, usually already "delivered".
 */
const emu = useEmulators();
afterEach(() => {
  vi.restoreAllMocks();
});

const APPEND = { method: "POST", path: "^/api/v2/conversations/[^/]+/messages$" };
const mirrorOf = (sid: string) => d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", sid);
const lastInbound = async (customer: string) =>
  (await d1Count("SELECT last_inbound_at AS n FROM conversations WHERE customer = ?", customer));

describe("the inbound hot path", () => {
  it("answers Twilio before D1 has the text, then mirrors it once as delivered", async () => {
    const customer = phone();
    const first = inboundFields({ From: customer, Body: "hello" });
    await postInbound(first);
    await thread(customer).deliver();

    // CXone takes its time (within the bridge's timeout): Twilio's answer waits for neither it nor D1.
    emu.cxone.faults.add({ ...APPEND, kind: "slow_commit", delayMs: 200, times: 1 });
    const second = inboundFields({ From: customer, Body: "second" });
    const res = await postInbound(second);
    expect(res.status).toBe(200);
    expect((await thread(customer).status(second.MessageSid!)).message).toBeDefined();
    expect(await mirrorOf(second.MessageSid!)).toBe(0);

    await thread(customer).deliver();
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'delivered'", second.MessageSid!)).toBe(1);
  });

  it("writes the conversation row when the thread changes or its activity is stale, not per text", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "one" }));
    await thread(customer).deliver();
    const touched = await lastInbound(customer);
    expect(touched).toBeGreaterThan(0);

    const later = Date.now() + 60_000;
    vi.spyOn(Date, "now").mockReturnValue(later);
    await postInbound(inboundFields({ From: customer, Body: "two" }));
    await thread(customer).deliver();
    expect(await lastInbound(customer)).toBe(touched);

    // Eleven minutes on, the next text refreshes it (retention counts from it).
    const stale = Date.now() + 11 * 60_000;
    vi.spyOn(Date, "now").mockReturnValue(stale);
    await postInbound(inboundFields({ From: customer, Body: "three" }));
    await thread(customer).deliver();
    expect(await lastInbound(customer)).toBe(stale);
  });

  describe("on a busy thread, D1 at most once a second", () => {
    // Alarms armed from a clock a minute ahead never fire on the wall clock: the test steps them.
    const freeze = (at: number) => vi.spyOn(Date, "now").mockReturnValue(at);
    const texts = (customer: string, ...bodies: string[]) => bodies.map((Body) => inboundFields({ From: customer, Body }));

    it("delivers at once and mirrors the texts of the second after the last write together, a second on", async () => {
      const customer = phone();
      freeze(Date.now() + 60_000);
      const [one, ...more] = texts(customer, "one", "two", "three");
      await postInbound(one!);
      await idle(thread(customer));
      expect(await mirrorOf(one!.MessageSid!)).toBe(1);

      for (const text of more) await postInbound(text);
      await idle(thread(customer));
      expect(emu.cxone.conversationsOf(customer)[0]!.messages.map((m) => m.text)).toEqual(["one", "two", "three"]);
      expect(await Promise.all(more.map((t) => mirrorOf(t.MessageSid!)))).toEqual([0, 0]);

      // The thread's next wake is that second's end: one write for both, one statement for both.
      const batches = vi.spyOn(Object.getPrototypeOf(env.DB) as D1Database, "batch");
      expect(await step(thread(customer))).toBe(true);
      expect(batches.mock.calls.map(([statements]) => statements.length)).toEqual([1]);
      expect(await Promise.all(more.map((t) => d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND state = 'delivered'", t.MessageSid!)))).toEqual([1, 1]);
    });

    it("looks for a newer proactive conversation at most once a second, and an explicit delivery looks at once", async () => {
      const customer = phone();
      const at = Date.now() + 60_000;
      freeze(at);
      const [one, two, three, four] = texts(customer, "one", "two", "three", "four");
      await postInbound(one!);
      await idle(thread(customer));
      const [earlier] = emu.cxone.conversationsOf(customer);

      const opened = () => {
        const { conversation } = emu.cxone.state.createConversation(
          {
            channel_type: "sms",
            initiated_by: "business",
            direction: "outbound",
            proactive: true,
            participants: [{ role: "customer", address: customer, address_type: "phone" }],
            status: "active",
            properties: { business_number: B.TWILIO_FROM_NUMBER },
          },
          crypto.randomUUID(),
        );
        return env.DB.prepare("INSERT INTO conversations (id, customer, business, status, proactive, created_at) VALUES (?, ?, ?, 'active', 1, ?)")
          .bind(conversation.id, customer, B.TWILIO_FROM_NUMBER, Date.now() + 2)
          .run()
          .then(() => conversation);
      };
      const alert = await opened();
      await postInbound(two!);
      await idle(thread(customer));
      freeze(at + 1_500);
      await postInbound(three!);
      await idle(thread(customer));
      expect(earlier!.messages.map((m) => m.text)).toEqual(["one", "two"]);
      expect(alert.messages.map((m) => m.text)).toEqual(["three"]);

      // CXone is down for the text inside the second; the reconciler's (or an operator's)
      // delivery looks again first.
      const second = await opened();
      emu.cxone.faults.add({ ...APPEND, kind: "status", status: 503, times: 1 });
      await postInbound(four!);
      await idle(thread(customer));
      expect(second.messages).toEqual([]);
      await thread(customer).deliver(true);
      expect(second.messages.map((m) => m.text)).toEqual(["four"]);
    });
  });
});

describe("the inbound mirror: one statement for a thread's rows", () => {
  const row = (sid: string, over: Partial<InboundRow> = {}): InboundRow => ({
    sid, customer: "+14155550123", business: B.TWILIO_FROM_NUMBER, state: "received", segments: 1, encoding: "GSM-7",
    attempts: 0, receivedAt: 1_000, checkAt: 61_000, place: 1, touchConversation: false, ...over,
  });
  const stateOf = async (sid: string) =>
    (await env.DB.prepare("SELECT state, attempts, conversation_id, cxone_message_id, check_at, created_at FROM messages WHERE message_sid = ?").bind(sid).first()) ?? undefined;

  it("inserts, moves on, and never lets a late 'received' undo a later state", async () => {
    const db = database(env.DB);
    const [a, b, c] = [`SM${crypto.randomUUID().replaceAll("-", "")}`, `SM${crypto.randomUUID().replaceAll("-", "")}`, `SM${crypto.randomUUID().replaceAll("-", "")}`];
    await recordInbound(db, [row(a), row(b)], 2_000);
    await recordInbound(db, [row(a, { state: "delivered", attempts: 1, conversationId: "conv-1", cxoneMessageId: "msg-1", checkAt: null }), row(c, { state: "dead", attempts: 5, lastError: "gone" })], 3_000);
    // A repair pass replays the first write of a and b: a stays delivered, b stays as it was.
    await recordInbound(db, [row(a), row(b)], 4_000);
    expect(await stateOf(a)).toEqual({ state: "delivered", attempts: 1, conversation_id: "conv-1", cxone_message_id: "msg-1", check_at: null, created_at: 1_000 });
    expect(await stateOf(b)).toEqual({ state: "received", attempts: 0, conversation_id: null, cxone_message_id: null, check_at: 61_000, created_at: 1_000 });
    expect(await stateOf(c)).toMatchObject({ state: "dead", attempts: 5 });
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref = ?", c)).toBe(1);
  });
});
