import { and, asc, desc, eq, gt, inArray, isNotNull, lte } from "drizzle-orm";
import type { Db } from "./client";
import { conversations } from "./schema";

export async function conversationById(db: Db, id: string) {
  return db.select().from(conversations).where(eq(conversations.id, id)).get();
}

/**
 * Proactive threads whose idle-close time has come (indexed: only rows with a close time), each
 * one's next try moved to `retryAt` before anyone tries: a close that fails waits its turn.
 */
export async function claimIdleCloses(db: Db, now: number, limit: number, retryAt: number) {
  const due = db
    .select({ id: conversations.id })
    .from(conversations)
    .where(and(isNotNull(conversations.idleCloseAt), lte(conversations.idleCloseAt, now), eq(conversations.status, "active")))
    .orderBy(asc(conversations.idleCloseAt))
    .limit(limit);
  return db.update(conversations).set({ idleCloseAt: retryAt }).where(inArray(conversations.id, due)).returning();
}

export async function markClosed(db: Db, id: string): Promise<void> {
  await db.update(conversations).set({ status: "closed", idleCloseAt: null }).where(eq(conversations.id, id));
}

/**
 * A proactive conversation opened for this thread after `after`: the customer's reply belongs
 * there (contract §3). Looked up by the thread when it delivers, so a launch needs no call to it.
 */
export async function newerProactive(db: Db, customer: string, business: string, after: number) {
  return db
    .select({ id: conversations.id, createdAt: conversations.createdAt })
    .from(conversations)
    .where(
      and(
        eq(conversations.customer, customer),
        eq(conversations.business, business),
        eq(conversations.proactive, true),
        eq(conversations.status, "active"),
        gt(conversations.createdAt, after),
      ),
    )
    .orderBy(desc(conversations.createdAt))
    .limit(1)
    .get();
}

/** A Messaging Service chose the sending number: replies will come to that one. */
export async function rebindBusiness(db: Db, id: string, business: string): Promise<void> {
  await db.update(conversations).set({ business }).where(eq(conversations.id, id));
}
