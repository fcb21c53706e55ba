import type { ReceiptStatus } from "./cxone";

/**
 * Twilio's message statuses, ranked so that a message only ever moves forward (contract §3):
 * accepted/scheduled/queued → sending → sent → delivered | undelivered | failed (| canceled),
 * and read only after delivered. Twilio promises no order and may repeat itself.
 */
export const TWILIO_STATUSES = ["accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed", "canceled", "read"] as const;
export type TwilioStatus = (typeof TWILIO_STATUSES)[number];

const RANK: Record<TwilioStatus, number> = {
  accepted: 1,
  scheduled: 2,
  queued: 3,
  sending: 4,
  sent: 5,
  delivered: 6,
  undelivered: 6,
  failed: 6,
  canceled: 6,
  read: 7,
};

export const FINAL = new Set<TwilioStatus>(["delivered", "undelivered", "failed", "canceled"]);

export function isTwilioStatus(s: string | null | undefined): s is TwilioStatus {
  return s !== null && s !== undefined && s in RANK;
}

/** Whether a message at `current` may move to `next`. Finals never change, except delivered → read. */
export function advances(current: string | null | undefined, next: TwilioStatus): boolean {
  if (!isTwilioStatus(current)) return true;
  if (next === "read") return current === "delivered";
  if (FINAL.has(current) || current === "read") return false;
  return RANK[next] > RANK[current];
}

/** The statuses a message may be in for `next` to apply: the condition of an atomic UPDATE. */
export function predecessors(next: TwilioStatus): TwilioStatus[] {
  return TWILIO_STATUSES.filter((s) => advances(s, next));
}

/** The CXone receipt for a final Twilio status; none for the others. */
export function receiptFor(status: TwilioStatus): ReceiptStatus | undefined {
  switch (status) {
    case "delivered":
      return "DELIVERED";
    case "undelivered":
      return "UNDELIVERABLE";
    case "failed":
    case "canceled":
      return "FAILED";
    default:
      return undefined;
  }
}

/** Carrier errors worth one more try through the rate bucket: filtering (30008) and throughput (30022). */
export const REQUEUE_ONCE = new Set(["30008", "30022"]);

/** Twilio keeps trying a queued message for 10 hours; after that "sent" is the last word. */
export const VALIDITY_WINDOW_MS = 10 * 3600_000;
