import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import { nextTryAt } from "./backoff-sql";
import type { Db } from "./client";
import { messages, statusEvents } from "./schema";

export async function outboundBySid(db: Db, sid: string) {
  return db.select().from(messages).where(and(eq(messages.messageSid, sid), eq(messages.direction, "outbound"))).get();
}

/** A callback nobody knew the SID of (or one from before the sender objects kept statuses). */
export async function recordStatusEvent(db: Db, e: { sid: string; status: string; errorCode?: string; at: number; matched: boolean }): Promise<void> {
  await db
    .insert(statusEvents)
    .values({ messageSid: e.sid, status: e.status, errorCode: e.errorCode ?? null, receivedAt: e.at, matched: e.matched, nextCheckAt: e.matched ? null : e.at });
}

/** A message with its final word: nothing left for the reconciler. */
export async function settle(db: Db, sid: string, now = Date.now()): Promise<void> {
  await db.update(messages).set({ state: "settled", checkAt: null, updatedAt: now }).where(eq(messages.messageSid, sid));
}

/**
 * Written as a literal, not a bound `matched = ?`: SQLite uses the partial index
 * `status_events_orphan_idx` (WHERE matched = 0) only when it can see the 0.
 */
const unmatched = sql`${statusEvents.matched} = 0`;

/** An orphan's tries back off up to this far apart while its send stays unknown. */
const ORPHAN_BASE_MS = 30_000;
const ORPHAN_CAP_MS = 3600_000;

/**
 * Takes the orphans whose next try has come, moving each one's next try forward with backoff
 * first (contract §10), so orphans that never match cannot hold the sweep's batch.
 */
export async function claimOrphans(db: Db, now: number, limit = 100) {
  const due = db
    .select({ id: statusEvents.id })
    .from(statusEvents)
    .where(and(unmatched, lte(statusEvents.nextCheckAt, now)))
    .orderBy(asc(statusEvents.nextCheckAt))
    .limit(limit);
  const rows = await db
    .update(statusEvents)
    .set({
      nextCheckAt: nextTryAt(now, statusEvents.checkAttempts, ORPHAN_BASE_MS, ORPHAN_CAP_MS),
      checkAttempts: sql`${statusEvents.checkAttempts} + 1`,
    })
    .where(inArray(statusEvents.id, due))
    .returning();
  return rows.sort((a, b) => a.receivedAt - b.receivedAt || a.id - b.id);
}

export async function markMatched(db: Db, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.update(statusEvents).set({ matched: true }).where(inArray(statusEvents.id, ids));
}

export async function dropOrphans(db: Db, olderThan: number): Promise<number> {
  const rows = await db.delete(statusEvents).where(and(unmatched, lte(statusEvents.receivedAt, olderThan))).returning({ id: statusEvents.id });
  return rows.length;
}

export async function statusHistory(db: Db, sids: string[]) {
  if (sids.length === 0) return [];
  return db.select().from(statusEvents).where(inArray(statusEvents.messageSid, sids)).orderBy(asc(statusEvents.id));
}
