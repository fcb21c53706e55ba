import { describe, expect, it } from "vitest";
import { ANSWER_WAIT_MS, CATCH_UP_MS, GUARD_MS, RateBucket, SendWindow, spacingMs, worstWindow } from "../../src/domain/outbound/bucket";

/**
 * Drains a backlog as a sender does, on a fake clock: the head reserves its slots and waits for
 * them and for room in the window — a timer, which fires `lateness()` after that. A head due
 * already leaves at once. Each request reaches Twilio `transit().reach` after it left and is
 * answered `transit().answer` after it left; the sender learns an answer only once its time has
 * come. Returns the sends, with when Twilio received each.
 */
function drain(rate: number, costs: number[], lateness = () => 0, transit = () => ({ reach: 0, answer: 0 })) {
  const bucket = new RateBucket(rate);
  const window = new SendWindow(rate);
  let answers: { at: number; tell: () => void }[] = [];
  const hear = (until: number) => {
    for (const a of answers.filter((x) => x.at <= until)) a.tell();
    answers = answers.filter((x) => x.at > until);
  };
  let clock = 0;
  return costs.map((segments) => {
    const slot = bucket.nextAt(clock, segments);
    bucket.reserve(slot);
    hear(clock);
    let due = Math.max(slot, window.roomAt(clock, segments));
    // An answer that comes while the head waits may let it go sooner: the drain looks again then.
    for (;;) {
      const next = Math.min(...answers.map((a) => a.at));
      if (!(next < due)) break;
      hear(next);
      due = Math.max(slot, window.roomAt(Math.max(clock, next), segments));
    }
    clock = due > clock ? due + lateness() : clock;
    bucket.sent(clock);
    const { reach, answer } = transit();
    const at = clock;
    const tell = window.add(at, segments);
    const answeredAt = at + Math.max(reach, answer);
    answers.push({ at: answeredAt, tell: () => tell(answeredAt) });
    return { at, segments, received: at + reach };
  });
}

/** The sends as Twilio received them. */
const atTwilio = (sends: { received: number; segments: number }[]) => sends.map((s) => ({ at: s.received, segments: s.segments }));

/** A seeded generator of timer lateness, 0 to `max` ms. */
function late(max: number, seed = 7) {
  return () => (seed = (seed * 48271) % 2147483647) % (max + 1);
}

const utilization = (sends: { at: number; segments: number }[], rate: number) => {
  const segments = sends.slice(1).reduce((n, s) => n + s.segments, 0);
  return (segments / (sends.at(-1)!.at - sends[0]!.at)) * 1000 / rate;
};

describe("the segment-counting rate bucket", () => {
  it("sends 40 single-segment messages at 5 segments/s in about 8 s, never more than 5 in a second", () => {
    const sends = drain(5, Array(40).fill(1));
    const last = sends.at(-1)!.at;
    expect(last).toBeGreaterThanOrEqual(7_800);
    expect(last).toBeCloseTo(39 * spacingMs(5));
    expect(worstWindow(sends, 5)).toBe(5);
  });

  it("takes at least 5.8 s for ten 3-segment messages at 5 segments/s", () => {
    const sends = drain(5, Array(10).fill(3));
    // 30 segments: the tenth message leaves in the slot of the 30th segment.
    expect(sends[0]!.at).toBeCloseTo(2 * spacingMs(5));
    expect(sends.at(-1)!.at).toBeGreaterThanOrEqual(5_800);
    expect(worstWindow(sends, 5)).toBeLessThanOrEqual(5);
  });

  it.each([1, 5, 30])("drains a backlog at 95 percent of the rate or more (%i segments/s) though every timer fires 2 ms late", (rate) => {
    const sends = drain(rate, Array(rate * 20).fill(1), () => 2);
    const span = sends.at(-1)!.at - sends[0]!.at;
    const achieved = ((sends.length - 1) / span) * 1000;
    expect(achieved / rate).toBeGreaterThanOrEqual(0.95);
    expect(worstWindow(sends, rate)).toBeLessThanOrEqual(rate);
  });

  it("keeps every window within the rate for a mix of message sizes and timer lateness", () => {
    const costs = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7) % 4));
    for (const rate of [1, 2, 5, 10, 30, 50]) {
      expect(worstWindow(drain(rate, costs), rate)).toBeLessThanOrEqual(rate);
      // Up to and past the catch-up: late sends and the ones catching up behind them.
      for (const max of [10, 40, CATCH_UP_MS, 3 * CATCH_UP_MS]) expect(worstWindow(drain(rate, costs, late(max)), rate)).toBeLessThanOrEqual(rate);
    }
  });

  it.each([5, 30, 50])("drains at 95 percent of the rate or more (%i segments/s) when timers fire up to 20 ms late at random", (rate) => {
    // A schedule that each late timer pushed back (a catch-up of 5 ms, slots never in the past, no
    // window) drained at 95 %, 84 % and 77 % of these rates here: the 100,000-recipient batch of
    // `npm run bench` lost its rate that way.
    const sends = drain(rate, Array(rate * 30).fill(1), late(20));
    expect(utilization(sends, rate)).toBeGreaterThanOrEqual(0.95);
    expect(worstWindow(sends, rate)).toBeLessThanOrEqual(rate);
  });

  it("drains multi-segment messages at nearly the full rate too", () => {
    const sends = drain(5, Array(40).fill(3), late(20));
    // A message's segments never start before the last one sent: a little less catch-up.
    expect(utilization(sends, 5)).toBeGreaterThanOrEqual(0.94);
    expect(worstWindow(sends, 5)).toBeLessThanOrEqual(5);
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

describe("the sender's window over its last sends", () => {
  it("lets the next send leave only a second and the guard after the one `rate` places before it", () => {
    const window = new SendWindow(5);
    for (let i = 0; i < 5; i++) window.add(i * 10, 1)(i * 10); // five sends caught up within 40 ms, answered at once
    expect(window.roomAt(50, 1)).toBe(1_000 + GUARD_MS);
    window.add(1_000 + GUARD_MS, 1)(1_000 + GUARD_MS);
    expect(window.roomAt(1_000 + GUARD_MS, 1)).toBe(10 + 1_000 + GUARD_MS);
  });

  it("lets an idle sender send at once, and a message dearer than the whole rate into an empty window", () => {
    expect(new SendWindow(5).roomAt(123, 1)).toBe(123);
    expect(new SendWindow(2).roomAt(123, 6)).toBe(123);
    const busy = new SendWindow(2);
    busy.add(0, 1)(0);
    // Its six segments count a spacing apart up to its send, the first a spacing after the one
    // before: two places after that one, its second segment is a whole window later.
    expect(busy.roomAt(0, 6)).toBeCloseTo(6 * spacingMs(2));
  });

  it("waits a second after Twilio answered the send `rate` places before; while that answer is out, at most ANSWER_WAIT_MS for it", () => {
    const window = new SendWindow(5);
    const tell = Array.from({ length: 5 }, (_, i) => window.add(i * 10, 1));
    // A request whose answer hangs holds the sender back a bounded time, not its whole timeout.
    expect(window.roomAt(50, 1)).toBe(ANSWER_WAIT_MS + 1_000);
    tell[0]!(160);
    expect(window.roomAt(50, 1)).toBe(160 + 1_000);
    // The first answer counts: a second call (the drain's backstop) changes nothing.
    tell[0]!(900);
    expect(window.roomAt(50, 1)).toBe(160 + 1_000);
    // A quick answer leaves the guard in force.
    const quick = new SendWindow(5);
    for (let i = 0; i < 5; i++) quick.add(i * 10, 1)(i * 10);
    expect(quick.roomAt(50, 1)).toBe(1_000 + GUARD_MS);
  });

  it("counts a send from before a restart as reaching Twilio when the object started", () => {
    const window = new SendWindow(2);
    window.add(0, 1, 700);
    window.add(10, 1, 700);
    expect(window.roomAt(20, 1)).toBe(1_700);
  });

  it("keeps every second as Twilio receives the requests within the rate, however long they take, while Twilio answers within the arrival bound", () => {
    // Requests reach Twilio 0–90 ms after leaving, and are answered up to 10 ms after that. A
    // window that counted only from dispatch, with a guard as slack (3014365), let the soak's
    // Twilio see 11 sends in a second of a 10/s sender; this model showed it too.
    for (const rate of [1, 5, 10, 30, 50]) {
      for (const seed of [3, 7, 11]) {
        const reach = late(90, seed);
        const extra = late(10, seed + 1);
        const transit = () => {
          const r = reach();
          return { reach: r, answer: r + extra() };
        };
        const sends = drain(rate, Array(300).fill(1), late(30, seed + 2), transit);
        expect(worstWindow(atTwilio(sends), rate)).toBeLessThanOrEqual(rate);
        expect(worstWindow(sends, rate)).toBeLessThanOrEqual(rate);
      }
    }
  });

  it.each([10, 50])("still drains at 95 percent of the rate or more (%i/s) when Twilio answers within 10 ms and timers fire up to 20 ms late", (rate) => {
    const answer = late(10, 5);
    const sends = drain(rate, Array(rate * 30).fill(1), late(20), () => {
      const a = answer();
      return { reach: a / 2, answer: a };
    });
    expect(utilization(sends, rate)).toBeGreaterThanOrEqual(0.95);
    expect(worstWindow(atTwilio(sends), rate)).toBeLessThanOrEqual(rate);
  });

  it("keeps a rate that is not a whole number as far apart as the bucket's slots", () => {
    const window = new SendWindow(2.5);
    for (let i = 0; i < 3; i++) window.add(i * spacingMs(2.5), 1)(i * spacingMs(2.5));
    expect(window.roomAt(0, 1)).toBeCloseTo(3 * spacingMs(2.5));
  });
});
