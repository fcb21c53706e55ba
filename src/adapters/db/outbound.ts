import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { applyConsent, consentOrder } from "./consent";
import { conversations, messages, optOuts, type MessageState } from "./schema";

export async function businessNumberOf(db: Db, conversationId: string): Promise<string | null | undefined> {
  const row = await db.select({ business: conversations.business }).from(conversations).where(eq(conversations.id, conversationId)).get();
  return row?.business;
}

export interface NewOutbound {
  cxoneMessageId: string;
  conversationId: string;
  customer: string;
  sender: string | null;
  segments: number;
  encoding: string;
  cxoneCreatedAt?: string;
  batchId?: string;
  sendAfter?: number;
  checkAt: number;
}

/**
 * Claims a CXone message id for sending: true for the one caller that inserted the row. The
 * unique index is what makes push, poll, retries and races produce one send.
 */
export async function claimOutbound(db: Db, row: NewOutbound, now = Date.now()): Promise<boolean> {
  const inserted = await db
    .insert(messages)
    .values({ direction: "outbound", state: "queued", createdAt: now, updatedAt: now, ...row, cxoneCreatedAt: row.cxoneCreatedAt ?? null, batchId: row.batchId ?? null, sendAfter: row.sendAfter ?? null })
    .onConflictDoNothing({ target: messages.cxoneMessageId })
    .returning({ id: messages.id });
  return inserted.length > 0;
}

export async function outboundByCxoneId(db: Db, cxoneMessageId: string) {
  return db.select().from(messages).where(and(eq(messages.cxoneMessageId, cxoneMessageId), eq(messages.direction, "outbound"))).get();
}

export interface OutboundPatch {
  state: MessageState;
  messageSid?: string | null;
  twilioStatus?: string | null;
  errorCode?: string | null;
  lastError?: string | null;
  attempts?: number;
  submittedAt?: number | null;
  checkAt?: number | null;
}

/** Updates an outbound message; `onlyFrom` keeps a late write from undoing a later state. */
export async function updateOutbound(db: Db, cxoneMessageId: string, patch: OutboundPatch, opts: { onlyFrom?: MessageState[] } = {}, now = Date.now()): Promise<void> {
  const where = eq(messages.cxoneMessageId, cxoneMessageId);
  await db
    .update(messages)
    .set({ ...patch, updatedAt: now })
    .where(opts.onlyFrom ? and(where, inArray(messages.state, opts.onlyFrom)) : where);
}

/** A number opted out of any of these business numbers / services, or of all ("*"), is suppressed. */
const suppressionKeys = (businesses: (string | null | undefined)[]) => [...new Set([...businesses.filter((b): b is string => typeof b === "string"), "*"])];

/** Is this customer opted out of any of these business numbers / services (or of all: "*")? */
export async function isSuppressed(db: Db, phone: string, businesses: (string | null | undefined)[]): Promise<boolean> {
  const row = await db.select({ n: sql<number>`1` }).from(optOuts).where(and(eq(optOuts.phone, phone), inArray(optOuts.business, suppressionKeys(businesses)))).get();
  return row !== undefined;
}

/** Of these numbers, the ones suppressed for these businesses (one query, however many numbers). */
export async function suppressedAmong(db: Db, phones: string[], businesses: (string | null | undefined)[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const rows = await db.all<{ phone: string }>(
    sql`SELECT DISTINCT phone FROM ${optOuts} WHERE phone IN (SELECT value FROM json_each(${JSON.stringify(phones)}))
        AND business IN (SELECT value FROM json_each(${JSON.stringify(suppressionKeys(businesses))}))`,
  );
  return new Set(rows.map((r) => r.phone));
}

/** Suppresses a customer for these business keys, as of now (an operator, Twilio's 21610). */
export async function addOptOut(db: Db, businesses: (string | null | undefined)[], phone: string, source: string, now = Date.now()): Promise<void> {
  const keys = businesses.filter((b): b is string => typeof b === "string" && b !== "");
  await applyConsent(db, { businesses: keys.length > 0 ? keys : ["*"], phone, state: "out", at: consentOrder(now), source }, now);
}
