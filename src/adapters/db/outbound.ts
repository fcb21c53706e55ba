import { and, eq, inArray, sql } from "drizzle-orm";
import { numberOf } from "../../domain/compliance/e164";
import { foundAmong } from "./chunks";
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
  const inserted = await claimStatement(db, row, now).returning({ id: messages.id });
  return inserted.length > 0;
}

/** The insert that claims a CXone id (queued, or already failed with its reason). */
export function claimStatement(db: Db, row: NewOutbound, now: number, failed?: { errorCode: string | null; lastError: string | null }) {
  const state = failed ? { state: "failed" as const, ...failed, checkAt: null } : { state: "queued" as const };
  return db
    .insert(messages)
    .values({ direction: "outbound", createdAt: now, updatedAt: now, ...row, cxoneCreatedAt: row.cxoneCreatedAt ?? null, batchId: row.batchId ?? null, sendAfter: row.sendAfter ?? null, ...state })
    .onConflictDoNothing({ target: messages.cxoneMessageId });
}

/** What a page of polled replies needs from D1 before claiming: one statement for the whole page. */
export interface PageLookup {
  /** Conversation id → its business number (null: known, none). */
  business: Map<string, string | null>;
  /** CXone id → the reply already claimed under it. */
  existing: Map<string, { state: string; sender: string | null; createdAt: number; cxoneCreatedAt: string | null }>;
}

export async function lookupPage(db: Db, conversationIds: string[], cxoneIds: string[]): Promise<PageLookup> {
  const rows = await db.all<{ kind: "c" | "m"; key: string; business: string | null; state: string | null; sender: string | null; createdAt: number | null; cxoneCreatedAt: string | null }>(sql`
    SELECT 'c' AS kind, id AS key, business, NULL AS state, NULL AS sender, NULL AS createdAt, NULL AS cxoneCreatedAt
      FROM ${conversations} WHERE id IN (SELECT value FROM json_each(${JSON.stringify([...new Set(conversationIds)])}))
    UNION ALL
    SELECT 'm', cxone_message_id, NULL, state, sender, created_at, cxone_created_at
      FROM ${messages} WHERE cxone_message_id IN (SELECT value FROM json_each(${JSON.stringify(cxoneIds)})) AND direction = 'outbound'`);
  const out: PageLookup = { business: new Map(), existing: new Map() };
  for (const r of rows) {
    if (r.kind === "c") out.business.set(r.key, r.business);
    else out.existing.set(r.key, { state: r.state!, sender: r.sender, createdAt: r.createdAt!, cxoneCreatedAt: r.cxoneCreatedAt });
  }
  return out;
}

/**
 * Claims several CXone ids in one statement (the rows travel as one JSON parameter: D1 binds at
 * most 100 values a statement). Returns the ids this call inserted; the others were claimed first.
 */
export async function claimOutboundMany(db: Db, rows: NewOutbound[], now = Date.now()): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const json = JSON.stringify(rows.map((r) => ({ ...r, cxoneCreatedAt: r.cxoneCreatedAt ?? null, batchId: r.batchId ?? null, sendAfter: r.sendAfter ?? null })));
  // "WHERE true": SQLite reads ON CONFLICT after a bare SELECT's FROM as a join constraint.
  const inserted = await db.all<{ id: string }>(sql`
    INSERT INTO ${messages} (direction, state, created_at, updated_at, cxone_message_id, conversation_id, customer, sender, segments, encoding, cxone_created_at, batch_id, send_after, check_at)
    SELECT 'outbound', 'queued', ${now}, ${now}, value ->> '$.cxoneMessageId', value ->> '$.conversationId', value ->> '$.customer', value ->> '$.sender',
           value ->> '$.segments', value ->> '$.encoding', value ->> '$.cxoneCreatedAt', value ->> '$.batchId', value ->> '$.sendAfter', value ->> '$.checkAt'
      FROM json_each(${json}) WHERE true
    ON CONFLICT (cxone_message_id) DO NOTHING
    RETURNING cxone_message_id AS id`);
  return new Set(inserted.map((r) => r.id));
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
export const suppressionKeys = (businesses: (string | null | undefined)[]) => [...new Set([...businesses.filter((b): b is string => typeof b === "string"), "*"])];

/**
 * Is this customer opted out of any of these business numbers / services (or of all: "*")? The list
 * is keyed by the customer's number: a WhatsApp address is its number (contract §9), and the
 * business key (whatsapp:+… or not) says which channel the opt-out was for.
 */
export async function isSuppressed(db: Db, phone: string, businesses: (string | null | undefined)[]): Promise<boolean> {
  const row = await db.select({ n: sql<number>`1` }).from(optOuts).where(and(eq(optOuts.phone, numberOf(phone)), inArray(optOuts.business, suppressionKeys(businesses)))).get();
  return row !== undefined;
}

/** Of these (E.164) numbers, the ones suppressed for these businesses (one query, however many numbers). */
export async function suppressedAmong(db: Db, phones: string[], businesses: (string | null | undefined)[]): Promise<Set<string>> {
  const keys = JSON.stringify(suppressionKeys(businesses));
  return foundAmong(db, phones, (chunk) =>
    db
      .selectDistinct({ value: optOuts.phone })
      .from(optOuts)
      .where(and(sql`${optOuts.phone} IN (SELECT value FROM json_each(${chunk}))`, sql`${optOuts.business} IN (SELECT value FROM json_each(${keys}))`)),
  );
}

/** The opt-outs of these numbers under these business keys, as "number key" pairs: one read for many messages. */
export async function optOutPairs(db: Db, phones: string[], keys: string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const rows = await db
    .select({ phone: optOuts.phone, business: optOuts.business })
    .from(optOuts)
    .where(and(sql`${optOuts.phone} IN (SELECT value FROM json_each(${JSON.stringify([...new Set(phones)])}))`, sql`${optOuts.business} IN (SELECT value FROM json_each(${JSON.stringify([...new Set(keys)])}))`));
  return new Set(rows.map((r) => `${r.phone} ${r.business}`));
}

/** Suppresses a customer for these business keys, as of now (an operator, Twilio's 21610). */
export async function addOptOut(db: Db, businesses: (string | null | undefined)[], phone: string, source: string, now = Date.now()): Promise<void> {
  const keys = businesses.filter((b): b is string => typeof b === "string" && b !== "");
  await applyConsent(db, { businesses: keys.length > 0 ? keys : ["*"], phone, state: "out", at: consentOrder(now), source }, now);
}
