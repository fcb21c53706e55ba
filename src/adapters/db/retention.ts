import { and, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { conversations, deadLetters, messages, outbox, proactiveBatches, proactiveRequests, statusEvents } from "./schema";

/**
 * Retention (contract §10): what is settled and older than the cutoff goes, one bounded chunk per
 * call, each read through an index that holds only deletable rows (so a chunk costs its own size,
 * never a scan of what stays). Never an unsettled message, an open dead letter or the
 * suppression list.
 */

/**
 * The final states of outbound messages (the messages_settled_idx partial index holds exactly
 * these). Delivered inbound rows go with their thread's own copy: `pruneInbound`.
 */
const SETTLED = sql`state IN ('settled', 'failed')`;
const listed = (values: (string | number)[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;

export interface PrunedMessages {
  messages: number;
  statusEvents: number;
  reports: number;
}

/**
 * Settled messages last changed before `before` whose every CXone report is done, with their
 * status history and reports: one transaction per chunk.
 */
export async function pruneMessages(db: Db, before: number, limit: number): Promise<PrunedMessages> {
  const rows = await db.all<{ id: number; sid: string | null; cxoneId: string | null }>(sql`
    SELECT id, message_sid AS sid, cxone_message_id AS cxoneId FROM ${messages}
    WHERE ${SETTLED} AND updated_at < ${before}
      AND NOT EXISTS (SELECT 1 FROM ${outbox} o WHERE o.cxone_message_id = messages.cxone_message_id AND o.state = 'pending')
    ORDER BY updated_at LIMIT ${limit}`);
  if (rows.length === 0) return { messages: 0, statusEvents: 0, reports: 0 };
  const ids = rows.map((r) => r.id);
  const sids = rows.flatMap((r) => (r.sid ? [r.sid] : []));
  const cxoneIds = rows.flatMap((r) => (r.cxoneId ? [r.cxoneId] : []));
  const [events, reports, gone] = await db.batch([
    db.delete(statusEvents).where(inArray(statusEvents.messageSid, listed(sids))).returning({ id: statusEvents.id }),
    db.delete(outbox).where(and(inArray(outbox.cxoneMessageId, listed(cxoneIds)), sql`${outbox.state} <> 'pending'`)).returning({ id: outbox.id }),
    // The same conditions again: a message that moved meanwhile stays.
    db.delete(messages).where(and(inArray(messages.id, listed(ids)), SETTLED, lt(messages.updatedAt, before))).returning({ id: messages.id }),
  ] as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return { messages: (gone as unknown[]).length, statusEvents: (events as unknown[]).length, reports: (reports as unknown[]).length };
}

/** Dead letters an operator resolved (retried) before `before`; open ones stay whatever their age. */
export async function pruneResolvedDeadLetters(db: Db, before: number, limit: number): Promise<number> {
  const due = db.select({ id: deadLetters.id }).from(deadLetters).where(and(sql`${deadLetters.state} = 'retried'`, lt(deadLetters.retriedAt, before))).orderBy(deadLetters.retriedAt).limit(limit);
  return (await db.delete(deadLetters).where(inArray(deadLetters.id, due)).returning({ id: deadLetters.id })).length;
}

/** Proactive idempotency records: a repeat of a key older than retention is a new request. */
export async function pruneIdempotencyRecords(db: Db, before: number, limit: number): Promise<number> {
  const due = db.select({ key: proactiveRequests.idempotencyKey }).from(proactiveRequests).where(lt(proactiveRequests.createdAt, before)).orderBy(proactiveRequests.createdAt).limit(limit);
  return (await db.delete(proactiveRequests).where(inArray(proactiveRequests.idempotencyKey, due)).returning({ key: proactiveRequests.idempotencyKey })).length;
}

/** Batches finished before `before` (their objects delete their own rows at the same age). */
export async function pruneFinishedBatches(db: Db, before: number, limit: number): Promise<number> {
  const due = db
    .select({ id: proactiveBatches.id })
    .from(proactiveBatches)
    .where(and(isNotNull(proactiveBatches.finishedAt), lt(proactiveBatches.finishedAt, before)))
    .orderBy(proactiveBatches.finishedAt)
    .limit(limit);
  return (await db.delete(proactiveBatches).where(inArray(proactiveBatches.id, due)).returning({ id: proactiveBatches.id })).length;
}

/**
 * Conversations with no sign of life since `before`, no idle close pending and no message left
 * (their messages went first; an unsettled one keeps its conversation).
 */
export async function pruneQuietConversations(db: Db, before: number, limit: number): Promise<number> {
  const activity = sql`coalesce(last_inbound_at, created_at)`;
  const due = db
    .select({ id: conversations.id })
    .from(conversations)
    .where(
      and(
        sql`${activity} < ${before}`,
        sql`${conversations.idleCloseAt} IS NULL`,
        sql`NOT EXISTS (SELECT 1 FROM ${messages} m WHERE m.conversation_id = ${conversations.id})`,
      ),
    )
    .orderBy(activity)
    .limit(limit);
  return (await db.delete(conversations).where(inArray(conversations.id, due)).returning({ id: conversations.id })).length;
}

/** A thread's delivered texts past retention, dropped by the thread's object with its own copy. */
export async function pruneInbound(db: Db, sids: string[]): Promise<void> {
  await db.run(sql`DELETE FROM ${messages} WHERE direction = 'inbound' AND state = 'delivered' AND message_sid IN ${listed(sids)}`);
}
