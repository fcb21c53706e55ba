import { and, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import { nextTryAt } from "./backoff-sql";
import type { Db } from "./client";
import { messages } from "./schema";

/** Checks of one message back off up to this far apart while they keep failing. */
export const CHECK_CAP_MS = 6 * 3600_000;

/**
 * Takes the messages whose check time has come, oldest first, and moves each one's next check
 * forward before anyone looks (contract §10): `baseMs` doubled per look that has not succeeded yet,
 * up to CHECK_CAP_MS. A check that then throws leaves the row behind the others instead of at
 * the head of every tick; one that succeeds sets its own next time (`nextCheck`). Only rows with
 * a check time are indexed (a partial index), so the cost follows what is pending.
 */
export async function claimChecks(db: Db, now: number, states: ("received" | "queued" | "sending" | "submitted")[], limit: number, baseMs: number) {
  const due = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(isNotNull(messages.checkAt), lte(messages.checkAt, now), inArray(messages.state, states)))
    .orderBy(messages.checkAt)
    .limit(limit);
  const rows = await db
    .update(messages)
    .set({
      checkAt: nextTryAt(now, messages.checkAttempts, baseMs, CHECK_CAP_MS),
      checkAttempts: sql`${messages.checkAttempts} + 1`,
    })
    .where(inArray(messages.id, due))
    .returning();
  return rows.sort((a, b) => (a.checkAt ?? 0) - (b.checkAt ?? 0) || a.id - b.id);
}

/** A check that succeeded: the next one at `at` (or none), its backoff reset. */
export async function nextCheck(db: Db, id: number, at: number | null): Promise<void> {
  await db.update(messages).set({ checkAt: at, checkAttempts: 0 }).where(eq(messages.id, id));
}

/** A message given up on; never one that has moved on to a final state meanwhile. */
export async function markDead(db: Db, id: number, reason: string, now = Date.now()): Promise<void> {
  await db
    .update(messages)
    .set({ state: "dead", lastError: reason, checkAt: null, updatedAt: now })
    .where(and(eq(messages.id, id), inArray(messages.state, ["received", "queued", "sending"])));
}
