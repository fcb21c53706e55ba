/**
 * The per-sender throughput limit, counted in segments (contract §5): a virtual-scheduling token
 * bucket (GCRA) with no burst. Segments get slots `spacing` apart, as a carrier queue drains
 * them, and a message goes to Twilio once the slot of its last segment has come — its cost is
 * paid before it leaves. So no one-second window ever holds more than `rate` segments, a
 * backlog drains at the full rate, and a 3-segment message at 1 segment/s leaves 2 s after
 * the slot of its first segment.
 */

/**
 * Slack per second of sending, so that the jitter between the bridge's send and Twilio's receipt
 * (timers, the network, a busy peer) cannot push rate + 1 sends into one second as Twilio sees
 * them. Costs 2% of the rate; measured by `npm run bench:rate`.
 */
export const GUARD_MS = 20;

/**
 * A send may leave up to this much after its slot (a timer firing late) without pushing the
 * schedule back, so a backlog still drains at the full rate.
 */
export const CATCH_UP_MS = 5;

export function spacingMs(rate: number): number {
  return (1000 + GUARD_MS) / rate;
}

/**
 * Slots are handed out by reservation: a message reserves the slots of its segments when it
 * becomes next in line (`nextAt` + `reserve`) and leaves at its last slot (`sent`). A send that
 * leaves late anchors the schedule to when it really left, so any `rate` + 1 consecutive
 * sends span more than a second however late the timers fire.
 */
export class RateBucket {
  /** `tat`: the first free segment slot (theoretical arrival time). */
  constructor(
    readonly rate: number,
    public tat = 0,
  ) {}

  /** When a message of `cost` segments reserving now would leave: the slot of its last segment. */
  nextAt(now: number, cost: number): number {
    return Math.max(now, this.tat) + (Math.max(1, cost) - 1) * spacingMs(this.rate);
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
