import { and, asc, eq, isNotNull, lte } from "drizzle-orm";
import type { Db } from "./client";
import { conversations } from "./schema";

export async function conversationById(db: Db, id: string) {
  return db.select().from(conversations).where(eq(conversations.id, id)).get();
}

/** Proactive threads whose idle-close time has come (indexed: only rows with a close time). */
export async function dueIdleCloses(db: Db, now: number, limit: number) {
  return db
    .select()
    .from(conversations)
    .where(and(isNotNull(conversations.idleCloseAt), lte(conversations.idleCloseAt, now), eq(conversations.status, "active")))
    .orderBy(asc(conversations.idleCloseAt))
    .limit(limit);
}

export async function markClosed(db: Db, id: string): Promise<void> {
  await db.update(conversations).set({ status: "closed", idleCloseAt: null }).where(eq(conversations.id, id));
}
