import { and, asc, desc, eq, or } from "drizzle-orm";
import type { Db } from "./client";
import { applyConsent, consentOrder } from "./consent";
import { messages, optOuts, outbox } from "./schema";

/** A message by its CXone id or its Twilio MessageSid. */
export async function messageByAnyId(db: Db, id: string) {
  return db.select().from(messages).where(or(eq(messages.cxoneMessageId, id), eq(messages.messageSid, id))).get();
}

export async function messagesOfConversation(db: Db, conversationId: string, limit = 500) {
  return db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.createdAt), asc(messages.id)).limit(limit);
}

export async function reportsOf(db: Db, cxoneMessageId: string) {
  return db.select().from(outbox).where(eq(outbox.cxoneMessageId, cxoneMessageId)).orderBy(asc(outbox.id));
}

export async function reopenReport(db: Db, cxoneMessageId: string, status: string, now = Date.now()) {
  const rows = await db
    .update(outbox)
    .set({ state: "pending", attempts: 0, nextAttemptAt: now, lastError: null })
    .where(and(eq(outbox.cxoneMessageId, cxoneMessageId), eq(outbox.status, status as "SENT"), eq(outbox.state, "dead")))
    .returning({ id: outbox.id });
  return rows[0]?.id;
}

export async function optOutsOf(db: Db, phone: string) {
  return db.select().from(optOuts).where(eq(optOuts.phone, phone)).orderBy(desc(optOuts.createdAt));
}

/** Takes a customer off the suppression list (for one business key, or all), as of now. */
export async function removeOptOuts(db: Db, phone: string, business?: string, now = Date.now()): Promise<number> {
  const rows = (await optOutsOf(db, phone)).filter((r) => business === undefined || r.business === business);
  const businesses = business !== undefined ? [business] : rows.map((r) => r.business);
  await applyConsent(db, { businesses, phone, state: "in", at: consentOrder(now), source: "admin" }, now);
  return rows.length;
}
