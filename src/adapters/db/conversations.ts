import { and, asc, desc, eq, gt, inArray, isNotNull, lte, sql } from "drizzle-orm";
import type { Db } from "./client";
import { prepared } from "./prepared";
import { conversations } from "./schema";

export async function conversationById(db: Db, id: string) {
  return db.select().from(conversations).where(eq(conversations.id, id)).get();
}

/**
 * Proactive threads whose idle-close time has come (indexed: only rows with a close time), each
 * one's next try moved to `retryAt` before anyone tries: a close that fails waits its turn.
 */
export async function claimIdleCloses(db: Db, now: number, limit: number, retryAt: number, graceMs: number) {
  const due = db
    .select({ id: conversations.id })
    .from(conversations)
    .where(and(isNotNull(conversations.idleCloseAt), lte(conversations.idleCloseAt, now - graceMs), eq(conversations.status, "active")))
    .orderBy(asc(conversations.idleCloseAt))
    .limit(limit);
  return db.update(conversations).set({ idleCloseAt: retryAt }).where(inArray(conversations.id, due)).returning();
}

export async function markClosed(db: Db, ids: string[]): Promise<void> {
  await db.update(conversations).set({ status: "closed", idleCloseAt: null }).where(sql`${conversations.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
}

/** Where these proactive threads stand: active or not, and when they close unless answered (one read). */
export async function idleStates(db: Db, ids: string[]): Promise<Map<string, { active: boolean; idleCloseAt: number | null; campaignId: string | null }>> {
  const rows = await db
    .select({ id: conversations.id, status: conversations.status, idleCloseAt: conversations.idleCloseAt, campaignId: conversations.campaignId })
    .from(conversations)
    .where(sql`${conversations.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
  return new Map(rows.map((r) => [r.id, { active: r.status === "active", idleCloseAt: r.idleCloseAt, campaignId: r.campaignId }]));
}

/**
 * A proactive conversation opened for this thread after `after`: the customer's reply belongs
 * there (contract §3). Looked up by the thread when it delivers, so a launch needs no call to it.
 */
export async function newerProactive(db: Db, customer: string, business: string, after: number): Promise<{ id: string; createdAt: number } | undefined> {
  const row = await newerProactiveQuery(db, { customer, business, after }).first<{ id: string; created_at: number }>();
  return row ? { id: row.id, createdAt: row.created_at } : undefined;
}

const newerProactiveQuery = prepared<{ customer: string; business: string; after: number }>((db) =>
  db
    .select({ id: conversations.id, createdAt: conversations.createdAt })
    .from(conversations)
    .where(
      and(
        eq(conversations.customer, sql.placeholder("customer")),
        eq(conversations.business, sql.placeholder("business")),
        eq(conversations.proactive, true),
        eq(conversations.status, "active"),
        gt(conversations.createdAt, sql.placeholder("after")),
      ),
    )
    .orderBy(desc(conversations.createdAt))
    .limit(1),
);

/** A Messaging Service chose the sending number: replies will come to that one. */
export async function rebindBusiness(db: Db, id: string, business: string): Promise<void> {
  await db.update(conversations).set({ business }).where(eq(conversations.id, id));
}
