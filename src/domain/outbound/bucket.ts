/**
 * The per-sender throughput limit, counted in segments (contract §5): a virtual-scheduling token
 * bucket (GCRA). Segments get slots `spacing` apart, as a carrier queue drains them, and a
 * message goes to Twilio once the slot of its last segment has come — its cost is paid before it
 * leaves. A sender that fell behind its slots (late timers) catches up, within the window of its
 * last sends. So no one-second window ever holds more than `rate` segments, a backlog drains at
 * the full rate, and a 3-segment message at 1 segment/s leaves 2 s after the slot of its first
 * segment.
 */

/**
 * Slack per second of sending, for rounding: what keeps the rate as Twilio receives the requests,
 * whatever the jitter on the way, is the sender's window (`SendWindow`), which waits for Twilio's
 * answers. Measured by `npm run bench:rate`.
 */
export const GUARD_MS = 2;

/**
 * A send may leave up to this much after its slot (a timer firing late, a busy isolate) without
 * pushing the schedule back, so a backlog still drains at the full rate: the sends behind it
 * catch up, as close together as the sender's window (`SendWindow`) lets them. A stall longer
 * than this restarts the schedule from when the send really left, so a sender that was idle
 * starts afresh: at most this much of its slots ever go at once. (At 5 ms, with every late timer
 * pushing the schedule back, a 100,000-recipient batch drained at 80–91 % of its rate, `npm run
 * bench`; at 100 ms its sender still lost the stalls of 100–250 ms a loaded local workerd has.)
 */
export const CATCH_UP_MS = 300;

export function spacingMs(rate: number): number {
  return (1000 + GUARD_MS) / rate;
}

/**
 * Slots are handed out by reservation: a message reserves the slots of its segments when it
 * becomes next in line (`nextAt` + `reserve`) and leaves at its last slot (`sent`). A send that
 * leaves more than `CATCH_UP_MS` late anchors the schedule to when it really left. What keeps
 * the rate when sends catch up is the sender's `SendWindow`.
 */
export class RateBucket {
  /** `tat`: the first free segment slot (theoretical arrival time). */
  constructor(
    readonly rate: number,
    public tat = 0,
  ) {}

  /**
   * When a message of `cost` segments reserving now would leave: the slot of its last segment —
   * already past if the sender is catching up (up to `CATCH_UP_MS` behind), from now if it was idle.
   */
  nextAt(now: number, cost: number): number {
    return (this.tat >= now - CATCH_UP_MS ? this.tat : now) + (Math.max(1, cost) - 1) * spacingMs(this.rate);
  }

  /** Takes the slots up to `at` (a time `nextAt` gave). */
  reserve(at: number): void {
    this.tat = Math.max(this.tat, at + spacingMs(this.rate));
  }

  /** A message left at `at`: later slots start no earlier than one spacing after that (less the catch-up). */
  sent(at: number): void {
    this.tat = Math.max(this.tat, at - CATCH_UP_MS + spacingMs(this.rate));
  }

  /** Pushes the next send back, e.g. after Twilio answered 429 with Retry-After. */
  holdUntil(at: number): void {
    this.tat = Math.max(this.tat, at);
  }
}

/**
 * How long a request still out is taken to need at most to reach Twilio: one whose answer hangs
 * (until `UPSTREAM_TIMEOUT_MS` gives it up) holds its sender back this much, not the whole timeout.
 * A request that reached Twilio later than this and was not answered by then could put one send
 * too many into a second at Twilio; a request that was answered never can.
 */
export const ANSWER_WAIT_MS = 1_000;

/**
 * A segment in the sender's window, where the bucket counts it, and its message's request: how long
 * it took to be answered at most (unknown while it is out), shared by the message's segments.
 */
interface Point {
  at: number;
  request: { took: number | undefined };
}

/**
 * The sender's recent segments, each where the bucket puts it (a message's last segment when it
 * left, the ones before it a spacing apart, as `worstWindow` counts them). A send may leave only
 * if each of its segments comes at least a second (and the guard) after the segment `rate`
 * places before it, and a second after Twilio answered that one's request: Twilio had the
 * request by then. So however the schedule catches up, no window holds more than the rate, at
 * dispatch or as Twilio receives the requests, whatever the jitter on the way. The price is
 * Twilio's answer time once per second of sending. (A rate that is not a whole number:
 * `ceil(rate)` places, as far apart as the bucket's own slots.) Kept in the object's memory — the
 * last `ceil(rate)` segments are all it needs — and rebuilt from the queue's dispatch times when
 * the object starts.
 */
export class SendWindow {
  private readonly points: Point[] = [];
  private readonly places: number;
  private readonly span: number;
  private readonly second: number;

  constructor(readonly rate: number) {
    this.places = Math.max(1, Math.ceil(rate));
    this.span = this.places * spacingMs(rate);
    this.second = (this.places * 1000) / rate;
  }

  /**
   * The earliest time from `now` at which a message of `cost` segments may leave. A send whose
   * answer is still out counts as answered `ANSWER_WAIT_MS` after it left: the time is provisional,
   * and the drain asks again when the answer comes.
   */
  roomAt(now: number, cost: number): number {
    const c = Math.max(1, cost);
    const spacing = spacingMs(this.rate);
    const n = this.points.length;
    // Its segments come after the last one sent, not among them.
    let at = n > 0 ? Math.max(now, this.points[n - 1]!.at + (c - 1) * spacing) : now;
    for (let j = 1; j <= Math.min(c, this.places); j++) {
      const before = this.points[n + j - this.places - 1];
      if (before === undefined) continue;
      at = Math.max(at, before.at + Math.max(this.span, (before.request.took ?? ANSWER_WAIT_MS) + this.second) + (c - j) * spacing);
    }
    return at;
  }

  /**
   * A message of `cost` segments left at `at` (in time order); Twilio had it by `arrivedBy` if
   * that is known (a send from before a restart). Otherwise returns what to call, once, with the
   * time Twilio answered its request or the request failed. Its segments count that much later
   * as Twilio sees them.
   */
  add(at: number, cost: number, arrivedBy?: number): (answeredAt: number) => void {
    const took = (until: number) => Math.max(0, until - at);
    const request = { took: arrivedBy === undefined ? undefined : took(arrivedBy) };
    for (let i = Math.max(1, cost) - 1; i >= 0; i--) this.points.push({ at: at - i * spacingMs(this.rate), request });
    if (this.points.length > this.places) this.points.splice(0, this.points.length - this.places);
    return (answeredAt) => {
      request.took ??= took(answeredAt);
    };
  }
}

/**
 * The most segments any one-second window [t, t + 1000) holds, given sends as (time, segments):
 * a message's segments are counted in the slots up to its send time, as the bucket schedules them.
 */
export function worstWindow(sends: readonly { at: number; segments: number }[], rate: number): number {
  const spacing = spacingMs(rate);
  const points = sends.flatMap((s) => Array.from({ length: Math.max(1, s.segments) }, (_, i) => s.at - i * spacing)).sort((a, b) => a - b);
  let worst = 0;
  let start = 0;
  for (let end = 0; end < points.length; end++) {
    while (points[end]! - points[start]! >= 1000) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}
