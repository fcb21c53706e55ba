import { asAppError, isUpstreamStatus } from "../errors";
import { log } from "../log";

/** A failed idle close is tried again after this long. */
export const IDLE_CLOSE_RETRY_MS = 10 * 60_000;
/**
 * The Cron closes an idle proactive thread only this long after it was due: until then it is its
 * sender object's (src/do/sender-idle.ts). The Cron's sweep is the safety net for threads from
 * before the objects kept them, and for an object that did not get to them.
 */
export const IDLE_CLOSE_GRACE_MS = 60 * 60_000;
/** Closes tried per Cron tick. */
const PER_TICK = 50;
/** CXone closes in flight at once. */
const AT_ONCE = 10;

export interface IdleThread {
  id: string;
  campaignId: string | null;
}

export interface CloseDeps {
  close(conversationId: string): Promise<void>;
  /** Marks these closed in D1 (one statement). */
  markClosed(conversationIds: string[]): Promise<void>;
}

export interface IdleCloseDeps extends CloseDeps {
  /** Due proactive threads (due `graceMs` ago at least), each one's next try already moved to `retryAt`. */
  claim(now: number, limit: number, retryAt: number, graceMs: number): Promise<IdleThread[]>;
}

/**
 * Closes proactive threads nobody answered in time: the Cron's sweep. Each close is moved
 * IDLE_CLOSE_RETRY_MS on before it is tried: one that fails waits its turn without holding up
 * the ones behind it.
 */
export async function closeIdle(deps: IdleCloseDeps, now: number): Promise<number> {
  return (await closeThreads(deps, await deps.claim(now, PER_TICK, now + IDLE_CLOSE_RETRY_MS, IDLE_CLOSE_GRACE_MS))).length;
}

/** Closes these threads in CXone, AT_ONCE at a time, and marks the ones closed (or gone) in D1; returns those. */
export async function closeThreads(deps: CloseDeps, threads: readonly IdleThread[]): Promise<IdleThread[]> {
  const closed: IdleThread[] = [];
  for (let i = 0; i < threads.length; i += AT_ONCE) {
    await Promise.all(
      threads.slice(i, i + AT_ONCE).map(async (conv) => {
        try {
          await deps.close(conv.id);
        } catch (err) {
          // Gone from CXone is as good as closed.
          if (!isUpstreamStatus(err, 404)) {
            log("warn", "reconcile.error", { conversationId: conv.id, kind: "idle-close", reason: asAppError(err).detail ?? asAppError(err).publicMessage });
            return;
          }
        }
        closed.push(conv);
      }),
    );
  }
  if (closed.length === 0) return closed;
  await deps.markClosed(closed.map((c) => c.id));
  for (const conv of closed) log("info", "proactive.idle_closed", { conversationId: conv.id, campaignId: conv.campaignId });
  return closed;
}
