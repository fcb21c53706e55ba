import { and, asc, eq, isNull, lt, sql } from "drizzle-orm";
import type { ProactiveAnswer, ProactiveConversation, ProactiveRequest } from "../../domain/proactive";
import { OUTSIDE_WINDOW } from "../../domain/whatsapp";
import { foundAmong, jsonChunks } from "./chunks";
import type { Db } from "./client";
import { conversations, proactiveBatches, proactiveRequests } from "./schema";

function toAnswer(row: typeof proactiveRequests.$inferSelect): ProactiveAnswer {
  return {
    conversationId: row.conversationId,
    messageId: row.cxoneMessageId,
    status: row.status,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.sendAt ? { sendAt: new Date(row.sendAt).toISOString() } : {}),
  };
}

/** The stored answers of these keys (one round trip, however many keys). */
export async function answersOf(db: Db, keys: readonly string[]): Promise<Map<string, ProactiveAnswer>> {
  const [first, ...rest] = jsonChunks(keys).map((chunk) => db.select().from(proactiveRequests).where(sql`${proactiveRequests.idempotencyKey} IN (SELECT value FROM json_each(${chunk}))`));
  if (!first) return new Map();
  const rows = (await db.batch([first, ...rest])).flat();
  return new Map(rows.map((row) => [row.idempotencyKey, toAnswer(row)]));
}

/**
 * Stores each key's answer unless one is there; returns the stored answers, whichever won (one
 * statement for the writes, then one read).
 */
export async function rememberAnswers(db: Db, entries: readonly { request: ProactiveRequest; answer: ProactiveAnswer }[], now = Date.now()): Promise<Map<string, ProactiveAnswer>> {
  if (entries.length === 0) return new Map();
  const json = JSON.stringify(
    entries.map(({ request, answer }) => ({
      key: request.key,
      campaignId: request.campaignId,
      batchId: request.batchId ?? null,
      conversationId: answer.conversationId,
      messageId: answer.messageId,
      status: answer.status,
      reason: answer.reason ?? null,
      sendAt: answer.sendAt ? Date.parse(answer.sendAt) : null,
    })),
  );
  // "WHERE true": SQLite reads ON CONFLICT after a bare SELECT's FROM as a join constraint.
  await db.run(sql`
    INSERT INTO ${proactiveRequests} (idempotency_key, campaign_id, batch_id, conversation_id, cxone_message_id, status, reason, send_at, created_at)
    SELECT value ->> '$.key', value ->> '$.campaignId', value ->> '$.batchId', value ->> '$.conversationId', value ->> '$.messageId',
           value ->> '$.status', value ->> '$.reason', value ->> '$.sendAt', ${now}
      FROM json_each(${json}) WHERE true
    ON CONFLICT (idempotency_key) DO NOTHING`);
  return answersOf(db, entries.map((e) => e.request.key));
}

/**
 * The alerts' conversations, in one statement (a conversation already known is left as it is).
 * Each is created a millisecond after the one before it: of two alerts to one customer, a reply
 * is threaded to the later one (the newest, as when they were written one by one).
 */
export async function recordProactiveConversations(db: Db, rows: readonly ProactiveConversation[], now = Date.now()): Promise<void> {
  if (rows.length === 0) return;
  await db.run(sql`
    INSERT INTO ${conversations} (id, customer, business, status, proactive, campaign_id, created_at, idle_close_at)
    SELECT value ->> '$.id', value ->> '$.customer', value ->> '$.business', 'active', 1, value ->> '$.campaignId', ${now} + key, value ->> '$.idleCloseAt'
      FROM json_each(${JSON.stringify(rows)}) WHERE true
    ON CONFLICT (id) DO NOTHING`);
}

/** Of these idempotency keys, the ones already used (one round trip, however many keys). */
export async function usedKeys(db: Db, keys: string[]): Promise<Set<string>> {
  return foundAmong(db, keys, (chunk) =>
    db
      .select({ value: proactiveRequests.idempotencyKey })
      .from(proactiveRequests)
      .where(sql`${proactiveRequests.idempotencyKey} IN (SELECT value FROM json_each(${chunk}))`),
  );
}

export async function createBatch(db: Db, row: typeof proactiveBatches.$inferInsert): Promise<void> {
  await db.insert(proactiveBatches).values(row);
}

/** The launch progress a batch's Durable Object reports (absolute numbers, so a repeat is harmless). */
export async function recordBatchProgress(db: Db, id: string, progress: { launched: number; failed: number; refused: number; finishedAt: number | null }): Promise<void> {
  await db
    .update(proactiveBatches)
    .set({ launched: progress.launched, launchFailed: progress.failed, launchRefused: progress.refused, finishedAt: progress.finishedAt })
    .where(eq(proactiveBatches.id, id));
}

/** A batch whose object never got its recipients: finished, every accepted recipient failed. */
export async function markBatchAbandoned(db: Db, id: string, now: number): Promise<void> {
  await db
    .update(proactiveBatches)
    .set({ finishedAt: now, launchFailed: sql`${proactiveBatches.accepted} - ${proactiveBatches.launched} - ${proactiveBatches.launchRefused}` })
    .where(and(eq(proactiveBatches.id, id), isNull(proactiveBatches.finishedAt)));
}

/** Batches whose object has not reported them finished, oldest first (the Cron wakes them). */
export async function unfinishedBatches(db: Db, createdBefore: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: proactiveBatches.id })
    .from(proactiveBatches)
    .where(and(isNull(proactiveBatches.finishedAt), lt(proactiveBatches.createdAt, createdBefore)))
    .orderBy(asc(proactiveBatches.createdAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function batchById(db: Db, id: string) {
  return db.select().from(proactiveBatches).where(eq(proactiveBatches.id, id)).get();
}

export interface MessageCounts {
  queued: number;
  deferred: number;
  sent: number;
  delivered: number;
  failed: number;
  refused: number;
  total: number;
}

/** Keeps a batch's counts as read at `at`, for the status reads of the next few seconds. */
export async function storeBatchCounts(db: Db, id: string, counts: MessageCounts, at: number): Promise<void> {
  await db.update(proactiveBatches).set({ counts: JSON.stringify(counts), countedAt: at }).where(eq(proactiveBatches.id, id));
}

/** Codes of messages the bridge refused before sending (a batch counts them refused, not failed). */
const REFUSALS = sql.raw(`('OPTED_OUT', 'NO_SENDER', '${OUTSIDE_WINDOW}')`);

/** A batch's launched messages by state (the messages_batch index keeps this to the batch's rows). */
export async function batchMessageCounts(db: Db, batchId: string, now: number): Promise<MessageCounts> {
  const [row] = await db.all<MessageCounts>(sql`
    SELECT
      COALESCE(SUM(state IN ('queued', 'sending') AND (send_after IS NULL OR send_after <= ${now})), 0) AS queued,
      COALESCE(SUM(state IN ('queued', 'sending') AND send_after > ${now}), 0) AS deferred,
      COALESCE(SUM(state = 'submitted' OR (state = 'settled' AND twilio_status NOT IN ('delivered', 'read', 'undelivered', 'failed', 'canceled'))), 0) AS sent,
      COALESCE(SUM(state = 'settled' AND twilio_status IN ('delivered', 'read')), 0) AS delivered,
      COALESCE(SUM((state IN ('failed', 'dead') AND COALESCE(error_code, '') NOT IN ${REFUSALS}) OR (state = 'settled' AND twilio_status IN ('undelivered', 'failed', 'canceled'))), 0) AS failed,
      COALESCE(SUM(state = 'failed' AND error_code IN ${REFUSALS}), 0) AS refused,
      COUNT(*) AS total
    FROM messages WHERE batch_id = ${batchId}`);
  return row!;
}
