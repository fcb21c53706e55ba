import { describe, expect, it } from "vitest";
import { spacingMs, worstWindow } from "../../src/domain/outbound/bucket";
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
  it("sends 40 single-segment replies at 5 segments/s over ≈ 7.8 s, never more than 5 in a second", async () => {
    const { log } = await sendAll(Array.from({ length: 40 }, (_, i) => `short ${i}`));
    const span = log.at(-1)!.at - log[0]!.at;
    expect(span).toBeGreaterThanOrEqual(7_800);
    // Every slot is used: no gap holds a slot nobody took. Each step also lets real time pass (the
    // object's clock is the wall clock skipped forward), a few to tens of milliseconds a send on a
    // busy machine, so the span is not compared with 7.8 s — it ran 8.1–8.5 s beside a soak.
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
});
