import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { worstWindow } from "../../src/domain/outbound/bucket";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { outboundItem, pusher, settle } from "../support/outbound";

/** A Messaging Service at 40 segments/s (TEST_BINDINGS), split over 4 sender objects of 10/s. */
const SERVICE = `MG${"5".repeat(32)}`;
const SHARDS = [0, 1, 2, 3].map((k) => `${SERVICE}#${k}`);

describe("a Messaging Service's queue split over sender objects", () => {
  const emu = useEmulators();
  const push = pusher(emu);
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("spreads conversations over every shard, keeps each conversation's order, and never exceeds the service's rate together", async () => {
    // 160 one-message conversations and 8 conversations of 5 replies each, pushed newest first,
    // all at one instant of a wall clock held a minute ahead: the steps move the objects' clocks,
    // and the loaded CI machine cannot push a thread's oldest reply after its ordering window
    // (it did: reply 1 before reply 0).
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
    const singles = Array.from({ length: 160 }, () => outboundItem({ from: SERVICE }));
    const threads = Array.from({ length: 8 }, () => {
      const conversationId = `conv-${crypto.randomUUID()}`;
      const t0 = Date.now();
      return Array.from({ length: 5 }, (_, i) => outboundItem({ from: SERVICE, conversationId, body: `${conversationId} reply ${i}`, createdTime: new Date(t0 + i * 10).toISOString() }));
    });
    // The singles go 20 at a time and the shards settle side by side: one after the other, the
    // 200 pushes and four settles took 7 s on an idle machine and passed the 20 s timeout on a
    // loaded CI one. A thread's replies still go one by one, newest first.
    for (let i = 0; i < singles.length; i += 20) {
      for (const r of await Promise.all(singles.slice(i, i + 20).map((item) => push(item)))) expect(r.status).toBe(200);
    }
    await Promise.all(
      threads.map(async (t) => {
        for (const item of [...t].reverse()) expect((await push(item)).status).toBe(200);
      }),
    );

    await Promise.all(SHARDS.map((name) => settle(name)));
    const stats = await Promise.all(SHARDS.map((name) => env.SENDER.getByName(name).stats()));
    // Every shard did a share (a conversation lands on one by a hash of its id), at its share of the rate.
    for (const s of stats) {
      expect(s.done).toBeGreaterThan(20);
      expect(s.rate).toBe(10);
    }
    expect(stats.reduce((n, s) => n + s.done, 0)).toBe(200);

    // Each shard paced itself from the same start: together no second holds more than 40.
    const admin = await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/admin/senders/${SERVICE}`, { headers: { authorization: `Bearer ${B.ADMIN_TOKEN}` } }));
    const view = (await admin.json()) as { rate: number; done: number; shards: { sender: string }[]; sent: { at: number; segments: number; conversationId: string; id: string }[] };
    expect(view).toMatchObject({ rate: 40, done: 200 });
    expect(view.shards.map((s) => s.sender)).toEqual(SHARDS);
    expect(view.sent).toHaveLength(200);
    expect(worstWindow(view.sent, 40)).toBeLessThanOrEqual(40);
    expect(worstWindow(view.sent, 40)).toBeGreaterThan(10);

    // A conversation's replies left in createdTime order, all from one shard.
    const sms = emu.twilio.messages();
    for (const t of threads) {
      const bodies = sms.filter((m) => m.body.startsWith(t[0]!.conversationId)).map((m) => m.body);
      expect(bodies).toEqual(t.map((i) => i.body));
    }
    for (const t of threads) {
      const owners = await Promise.all(SHARDS.map(async (name) => (await env.SENDER.getByName(name).inspect(t[0]!.id)) !== undefined));
      expect(owners.filter(Boolean)).toHaveLength(1);
      for (const item of t) expect(await env.SENDER.getByName(SHARDS[owners.indexOf(true)]!).inspect(item.id)).toBeDefined();
    }
    // Sent through the service, not a number.
    expect(sms.filter((m) => m.messaging_service_sid === SERVICE)).toHaveLength(200);
  }, 60_000);
});
