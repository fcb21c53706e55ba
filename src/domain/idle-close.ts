import { asAppError, isUpstreamStatus } from "../errors";
import { log } from "../log";

/** A failed idle close is tried again after this long. */
export const IDLE_CLOSE_RETRY_MS = 10 * 60_000;
/** Closes tried per Cron tick. */
const PER_TICK = 50;

export interface IdleCloseDeps {
  /** Due proactive threads, each one's next try already moved to `retryAt`. */
  claim(now: number, limit: number, retryAt: number): Promise<{ id: string; campaignId: string | null }[]>;
  close(conversationId: string): Promise<void>;
  markClosed(conversationId: string): Promise<void>;
}

/**
 * Closes proactive threads nobody answered in time. Each close is moved IDLE_CLOSE_RETRY_MS on
 * before it is tried: one that fails waits its turn without holding up the ones behind it.
 */
export async function closeIdle(deps: IdleCloseDeps, now: number): Promise<number> {
  let closed = 0;
  for (const conv of await deps.claim(now, PER_TICK, now + IDLE_CLOSE_RETRY_MS)) {
    try {
      await deps.close(conv.id);
    } catch (err) {
      // Gone from CXone is as good as closed.
      if (!isUpstreamStatus(err, 404)) {
        log("warn", "reconcile.error", { conversationId: conv.id, kind: "idle-close", reason: asAppError(err).detail ?? asAppError(err).publicMessage });
        continue;
      }
    }
    await deps.markClosed(conv.id);
    closed += 1;
    log("info", "proactive.idle_closed", { conversationId: conv.id, campaignId: conv.campaignId });
  }
  return closed;
}
