import { requireConfig } from "../config";
import { RateBucket } from "../domain/outbound/bucket";
import { objectRate } from "../domain/outbound/shards";
import { SEND_PATH, type QueueRow } from "./sender-queue";
import type { Meta } from "./storage";

/** A sender object's rate bucket (contract §5), kept in `meta` so its slots survive restarts. */
export class SenderRate {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly meta: Meta,
  ) {}

  /** When `head` may leave: its reserved slot, reserved now if it has none. */
  leaveAt(head: QueueRow, now: number): number {
    return head.ready_at ?? this.reserve(head, now);
  }

  /** A message left at `at`. */
  sent(at: number): void {
    this.change((b) => b.sent(at));
  }

  /** Pushes the next send back, e.g. after Twilio answered 429 with Retry-After. */
  holdUntil(at: number): void {
    this.change((b) => b.holdUntil(at));
  }

  /** The first free slot. */
  nextSlot(): number {
    return this.bucket().tat;
  }

  private bucket(): RateBucket {
    return new RateBucket(objectRate(requireConfig(this.env), this.meta.get("sender") ?? ""), Number(this.meta.get("tat") ?? 0));
  }

  private change<T>(apply: (bucket: RateBucket) => T): T {
    const bucket = this.bucket();
    const result = apply(bucket);
    this.meta.set("tat", String(bucket.tat));
    return result;
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
