import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { spacingMs, worstWindow } from "../../src/domain/outbound/bucket";
import { restoreWindow } from "../../src/do/sender-queue";
import { useEmulators } from "../support/emulators";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

const push = pusher(useEmulators());

/**
 * The sender's real queue, stepped alarm by alarm: each step is time passing to the next slot,
 * so these run in milliseconds while the dispatch times are the ones the bucket chose.
 */
async function sendAll(bodies: string[], rate = 5) {
  const from = senderNumber();
  const items = bodies.map((body) => outboundItem({ from, body }));
  for (const item of items) await push(item);
  const enqueued = Date.now();
  await settle(from);
  const log = await sender(from).dispatchLog();
  expect(log).toHaveLength(items.length);
  return { log, enqueued, from, rate };
}

describe("the per-sender rate bucket, in segments", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("sends 40 single-segment replies at 5 segments/s over ≈ 8 s, never more than 5 in a second", async () => {
    // The wall clock stands still a minute ahead: the object's clock moves only as the steps skip
    // it to its alarms, and no alarm comes due on the real clock by itself meanwhile. (It ran on:
    // a step the loaded CI machine stalled 280 ms overtook the skipped clock, and that stall, not
    // the bucket, showed as a 481 ms gap; held at the present, alarms due in the real past fired
    // unstepped beside the steps: 423 ms.)
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
    const { log } = await sendAll(Array.from({ length: 40 }, (_, i) => `short ${i}`));
    const span = log.at(-1)!.at - log[0]!.at;
    expect(span).toBeGreaterThanOrEqual(7_800);
    expect(span).toBeLessThan(8_200);
    // Every slot is used: no gap holds a slot nobody took.
    const gaps = log.slice(1).map((l, i) => l.at - log[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(1.5 * spacingMs(5));
    expect(worstWindow(log, 5)).toBeLessThanOrEqual(5);
  });

  it("takes at least 5.8 s for ten 3-segment replies at 5 segments/s", async () => {
    const threeSegments = "x".repeat(153 * 2 + 10);
    const { log } = await sendAll(Array.from({ length: 10 }, () => threeSegments));
    expect(log.every((l) => l.segments === 3)).toBe(true);
    // The first leaves once its three segments have slots; the tenth in the slot of the 30th.
    expect(log.at(-1)!.at - log[0]!.at + 2 * spacingMs(5)).toBeGreaterThanOrEqual(5_800);
    expect(worstWindow(log, 5)).toBeLessThanOrEqual(5);
  });

  it("counts UCS-2 replies by their segments too", async () => {
    const emoji = "🙂".repeat(40); // 80 UTF-16 units → 2 UCS-2 segments
    const { log } = await sendAll(Array.from({ length: 6 }, () => emoji));
    expect(log.every((l) => l.segments === 2)).toBe(true);
    expect(worstWindow(log, 5)).toBeLessThanOrEqual(5);
  });

  it("remembers the last second's sends across a restart: a sender that caught up waits out its window", async () => {
    const { from } = await sendAll(Array.from({ length: 2 }, (_, i) => `seed ${i}`));
    await runInDurableObject(sender(from), async (_instance, state) => {
      // Five sends caught up within 40 ms, written as the drain writes them; then the object restarts.
      const now = Date.now();
      state.storage.sql.exec("UPDATE queue SET dispatched_at = NULL");
      for (let i = 0; i < 5; i++) {
        state.storage.sql.exec(
          "INSERT INTO queue (id, conversation_id, created_time, enqueued_at, not_before, cost, state, dispatched_at) VALUES (?, 'c', '', ?, ?, 1, 'done', ?)",
          `restart-${i}`,
          now,
          now,
          now - 40 + i * 10,
        );
      }
      // Their answers went with the old instance: each counts as reaching Twilio when the new one
      // started (here 30 ms after the last send), or once its request would have been given up.
      const started = now + 30;
      expect(restoreWindow(state.storage.sql, 5, started, 10_000).roomAt(started, 1)).toBe(started + 1_000);
      expect(restoreWindow(state.storage.sql, 5, started, 20).roomAt(started, 1)).toBe(now - 40 + 20 + 1_000);
      // A send older than the window does not hold the next one back.
      state.storage.sql.exec("UPDATE queue SET dispatched_at = ? WHERE id = 'restart-0'", now - 50_000);
      expect(restoreWindow(state.storage.sql, 5, started, 10_000).roomAt(started, 1)).toBe(started);
    });
  });
});
