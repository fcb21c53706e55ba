import { and, asc, eq, inArray, isNotNull, lte } from "drizzle-orm";
import type { Db } from "./client";
import { messages } from "./schema";

/**
 * Messages whose check time has come, oldest first. Only rows with a check time are indexed
 * (a partial index), so the cost follows what is pending, not the size of the table.
 */
export async function dueChecks(db: Db, now: number, states: ("received" | "queued" | "sending" | "submitted")[], limit: number) {
  return db
    .select()
    .from(messages)
    .where(and(isNotNull(messages.checkAt), lte(messages.checkAt, now), inArray(messages.state, states)))
    .orderBy(asc(messages.checkAt))
    .limit(limit);
}

export async function nextCheck(db: Db, id: number, at: number | null): Promise<void> {
  await db.update(messages).set({ checkAt: at }).where(eq(messages.id, id));
}

export async function markDead(db: Db, id: number, reason: string, now = Date.now()): Promise<void> {
  await db.update(messages).set({ state: "dead", lastError: reason, checkAt: null, updatedAt: now }).where(eq(messages.id, id));
}
