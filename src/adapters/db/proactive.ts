import { and, asc, eq, isNull, lt, sql } from "drizzle-orm";
import type { ProactiveAnswer, ProactiveRequest } from "../../domain/proactive";
import { OUTSIDE_WINDOW } from "../../domain/whatsapp";
import { foundAmong } from "./chunks";
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

export async function firstAnswer(db: Db, key: string): Promise<ProactiveAnswer | undefined> {
  const row = await db.select().from(proactiveRequests).where(eq(proactiveRequests.idempotencyKey, key)).get();
  return row ? toAnswer(row) : undefined;
}

/** Stores the answer for a key unless one is there; returns whichever answer won. */
export async function rememberAnswer(db: Db, req: ProactiveRequest, answer: ProactiveAnswer, now = Date.now()): Promise<ProactiveAnswer> {
  await db
    .insert(proactiveRequests)
    .values({
      idempotencyKey: req.key,
      campaignId: req.campaignId,
      batchId: req.batchId ?? null,
      conversationId: answer.conversationId,
      cxoneMessageId: answer.messageId,
      status: answer.status,
      reason: answer.reason ?? null,
      sendAt: answer.sendAt ? Date.parse(answer.sendAt) : null,
      createdAt: now,
    })
    .onConflictDoNothing();
  return (await firstAnswer(db, req.key))!;
}

export async function recordProactiveConversation(
  db: Db,
  row: { id: string; customer: string; business: string; campaignId: string; idleCloseAt: number },
  now = Date.now(),
): Promise<void> {
  await db
    .insert(conversations)
    .values({ ...row, proactive: true, status: "active", createdAt: now })
    .onConflictDoNothing();
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
