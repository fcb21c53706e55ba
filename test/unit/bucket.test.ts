import { describe, expect, it } from "vitest";
import { CATCH_UP_MS, RateBucket, spacingMs, worstWindow } from "../../src/domain/outbound/bucket";

/** Drains a backlog through the bucket on a fake clock; returns the send times. */
function drain(rate: number, costs: number[], lateness = () => 0) {
  const bucket = new RateBucket(rate);
  let clock = 0;
  return costs.map((segments) => {
    const slot = bucket.nextAt(clock, segments);
    bucket.reserve(slot);
    clock = slot + lateness();
    bucket.sent(clock);
    return { at: clock, segments };
  });
}

describe("the segment-counting rate bucket", () => {
  it("sends 40 single-segment messages at 5 segments/s in about 7.8 s, never more than 5 in a second", () => {
    const sends = drain(5, Array(40).fill(1));
    const last = sends.at(-1)!.at;
    expect(last).toBeGreaterThanOrEqual(7_800);
    expect(last).toBeLessThan(7_800 * 1.03);
    expect(worstWindow(sends, 5)).toBe(5);
  });

  it("takes at least 5.8 s for ten 3-segment messages at 5 segments/s", () => {
    const sends = drain(5, Array(10).fill(3));
    // 30 segments: the tenth message leaves in the slot of the 30th segment.
    expect(sends[0]!.at).toBeCloseTo(2 * spacingMs(5));
    expect(sends.at(-1)!.at).toBeGreaterThanOrEqual(5_800);
    expect(worstWindow(sends, 5)).toBeLessThanOrEqual(5);
  });

  it.each([1, 5, 30])("drains a backlog at ≥ 95%% of the rate (%i segments/s) though every timer fires 2 ms late", (rate) => {
    const sends = drain(rate, Array(rate * 20).fill(1), () => 2);
    const span = sends.at(-1)!.at - sends[0]!.at;
    const achieved = ((sends.length - 1) / span) * 1000;
    expect(achieved / rate).toBeGreaterThanOrEqual(0.95);
    expect(worstWindow(sends, rate)).toBeLessThanOrEqual(rate);
  });

  it("keeps every window within the rate for a mix of message sizes and timer lateness", () => {
    const costs = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7) % 4));
    let seed = 7;
    const jitter = () => ((seed = (seed * 48271) % 2147483647) % 40) - 10; // -10…29 ms, often idle gaps
    for (const rate of [1, 2, 5, 10, 30]) {
      expect(worstWindow(drain(rate, costs), rate)).toBeLessThanOrEqual(rate);
      expect(worstWindow(drain(rate, costs, () => Math.max(0, jitter())), rate)).toBeLessThanOrEqual(rate);
    }
  });

  it("lets a sender that was idle send at once, and honours a hold (429 Retry-After)", () => {
    const bucket = new RateBucket(5);
    expect(bucket.nextAt(10_000, 1)).toBe(10_000);
    bucket.reserve(10_000);
    bucket.sent(10_000);
    expect(bucket.nextAt(10_000, 1)).toBeCloseTo(10_000 + spacingMs(5));
    bucket.holdUntil(15_000);
    expect(bucket.nextAt(10_500, 1)).toBe(15_000);
  });

  it("makes an idle sender's 3-segment message leave at the slot of its third segment", () => {
    const bucket = new RateBucket(1);
    const at = bucket.nextAt(0, 3);
    expect(at).toBeCloseTo(2 * spacingMs(1));
    bucket.reserve(at);
    expect(bucket.nextAt(at, 1)).toBeCloseTo(3 * spacingMs(1));
  });

  it("anchors the schedule to a send that left very late, so the next ones cannot bunch up behind it", () => {
    const bucket = new RateBucket(5);
    bucket.reserve(bucket.nextAt(0, 1));
    bucket.sent(900); // the timer fired 900 ms late
    expect(bucket.nextAt(900, 1)).toBeCloseTo(900 - CATCH_UP_MS + spacingMs(5));
  });

  it("counts a window of sends as the carrier sees them", () => {
    expect(worstWindow([{ at: 0, segments: 1 }, { at: 999, segments: 1 }, { at: 1000, segments: 1 }], 100)).toBe(2);
    // Six segments paid for before leaving: five slots in any one second.
    expect(worstWindow([{ at: 2_000, segments: 6 }], 5)).toBe(5);
  });
});
