import { and, eq, lte, sql } from "drizzle-orm";
import type { StatusReport } from "../cxone/schemas";
import type { Db } from "./client";
import { deadLetterStatement } from "./dead-letters";
import { messages, outbox } from "./schema";

/** How long a claimed report is someone's before another worker may try it. */
export const REPORT_LEASE_MS = 60_000;

const reportStatement = (db: Db, cxoneMessageId: string, body: StatusReport, now: number) =>
  db
    .insert(outbox)
    .values({ cxoneMessageId, status: body.status, payload: JSON.stringify(body), nextAttemptAt: now, createdAt: now })
    .onConflictDoNothing()
    .returning({ id: outbox.id });

/** Queues a status report for CXone; a second report of the same status for a message is ignored. */
export async function queueReport(db: Db, cxoneMessageId: string, body: StatusReport, now = Date.now()): Promise<number | undefined> {
  const rows = await reportStatement(db, cxoneMessageId, body, now);
  return rows[0]?.id;
}

/**
 * Fails a message that was never sent and queues its FAILED report in one transaction. Apart, a
 * Worker dying between the two left a failed message (no longer checked by the reconciler) whose
 * receipt nothing would ever queue — found by the soak.
 */
export async function failUnsent(db: Db, cxoneMessageId: string, body: StatusReport, now = Date.now()): Promise<number | undefined> {
  const [, queued] = await db.batch([
    db
      .update(messages)
      .set({ state: "failed", errorCode: body.deliveryReceipt.errorCode ?? null, lastError: body.deliveryReceipt.errorMessage ?? null, checkAt: null, updatedAt: now })
      .where(eq(messages.cxoneMessageId, cxoneMessageId)),
    reportStatement(db, cxoneMessageId, body, now),
  ]);
  return queued[0]?.id;
}

export type ClaimedReport = typeof outbox.$inferSelect;

/**
 * Claims due reports — all due ones, or those of the listed reports' messages (so an earlier
 * report of the same message, e.g. SENT, goes first). Each claimed row is leased to the caller.
 */
export async function claimReports(db: Db, now: number, opts: { ids?: number[]; limit?: number } = {}): Promise<ClaimedReport[]> {
  if (opts.ids && opts.ids.length === 0) return [];
  const due = sql`state = 'pending' AND next_attempt_at <= ${now}`;
  const pick = opts.ids
    ? sql`SELECT id FROM outbox WHERE ${due} AND cxone_message_id IN (SELECT cxone_message_id FROM outbox WHERE id IN (${sql.join(opts.ids.map((id) => sql`${id}`), sql`, `)}))`
    : sql`SELECT id FROM outbox WHERE ${due} ORDER BY next_attempt_at LIMIT ${opts.limit ?? 100}`;
  const rows = await db
    .update(outbox)
    .set({ nextAttemptAt: now + REPORT_LEASE_MS, attempts: sql`${outbox.attempts} + 1` })
    .where(and(eq(outbox.state, "pending"), lte(outbox.nextAttemptAt, now), sql`${outbox.id} IN (${pick})`))
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

export async function reportDone(db: Db, id: number): Promise<void> {
  await db.update(outbox).set({ state: "done", lastError: null }).where(eq(outbox.id, id));
}

export async function reportRetry(db: Db, id: number, at: number, error: string): Promise<void> {
  await db.update(outbox).set({ nextAttemptAt: at, lastError: error }).where(eq(outbox.id, id));
}

export async function reportDead(db: Db, row: ClaimedReport, error: string, now = Date.now()): Promise<void> {
  await db.batch([
    db.update(outbox).set({ state: "dead", lastError: error }).where(eq(outbox.id, row.id)),
    deadLetterStatement(db, { kind: "status", ref: `${row.cxoneMessageId}:${row.status}`, reason: error, attempts: row.attempts }, now),
  ]);
}
