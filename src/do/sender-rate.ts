import { requireConfig } from "../config";
import { RateBucket, SendWindow } from "../domain/outbound/bucket";
import { objectRate } from "../domain/outbound/shards";
import { restoreWindow, SEND_PATH, type QueueRow } from "./sender-queue";
import type { Meta } from "./storage";

/**
 * A sender object's rate (contract §5): its bucket's schedule, kept in `meta` so the slots survive
 * restarts, and the window of its last sends, kept in memory and rebuilt from the queue.
 */
export class SenderRate {
  private window: SendWindow | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly meta: Meta,
  ) {}

  /**
   * When `head` may leave: its reserved slot (reserved now if it has none) and room in the window
   * (provisional while an earlier send's answer is out). In whole milliseconds, as the clock and
   * alarms are: a slot between two would have the drain sleep until the clock passed it (a test's
   * clock, moved to the alarm, never does).
   */
  leaveAt(head: QueueRow, now: number): number {
    return Math.ceil(Math.max(head.ready_at ?? this.reserve(head, now), this.recent().roomAt(now, head.cost)));
  }

  /** A message of `cost` segments left at `at`; returns what to call, once, with the time Twilio answered it. */
  sent(at: number, cost: number): (answeredAt: number) => void {
    this.change((b) => b.sent(at));
    return this.recent().add(at, cost);
  }

  /** Pushes the next send back, e.g. after Twilio answered 429 with Retry-After. */
  holdUntil(at: number): void {
    this.change((b) => b.holdUntil(at));
  }

  /** The first free slot. */
  nextSlot(): number {
    return this.bucket().tat;
  }

  private rate(): number {
    return objectRate(requireConfig(this.env), this.meta.get("sender") ?? "");
  }

  private bucket(): RateBucket {
    return new RateBucket(this.rate(), Number(this.meta.get("tat") ?? 0));
  }

  private change<T>(apply: (bucket: RateBucket) => T): T {
    const bucket = this.bucket();
    const result = apply(bucket);
    this.meta.set("tat", String(bucket.tat));
    return result;
  }

  /** The window of the last sends; the queue's after a start or a change of rate. */
  private recent(): SendWindow {
    const rate = this.rate();
    if (this.window?.rate !== rate) this.window = restoreWindow(this.sql, rate, Date.now(), requireConfig(this.env).UPSTREAM_TIMEOUT_MS);
    return this.window;
  }

  /**
   * Reserves the head's segment slots and records when it may leave. Only the head holds a
   * reservation: one left over by a message that stopped being the head is given up.
   */
  private reserve(head: QueueRow, now: number): number {
    const at = this.change((bucket) => {
      const slot = bucket.nextAt(now, head.cost);
      bucket.reserve(slot);
      return slot;
    });
    this.sql.exec(SEND_PATH.dropOtherReservations, head.id);
    this.sql.exec("UPDATE queue SET ready_at = ? WHERE id = ?", at, head.id);
    return at;
  }
}
