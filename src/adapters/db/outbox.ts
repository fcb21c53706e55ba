import { and, eq, lte, sql, type SQL } from "drizzle-orm";
import type { Receipt } from "../../domain/cxone";
import type { ClaimedReport, ReportStore } from "../../domain/outbox";
import type { Db } from "./client";
import { deadLetterStatement } from "./dead-letters";
import { claimStatement, type NewOutbound } from "./outbound";
import { messages, outbox } from "./schema";

/** How long a claimed report is someone's before another worker may try it. */
export const REPORT_LEASE_MS = 60_000;

/**
 * Fails a message that was never handed to Twilio and queues its FAILED report, in one
 * transaction. Apart, a Worker dying between the two left a failed message (no longer checked by
 * the reconciler) whose receipt nothing would ever queue — found by the soak. Only a message still
 * `queued` (or one the bridge never recorded) is failed and reported: a refusal that comes late
 * (a poll item that fails validation, a repeat) never moves a message that was sent, delivered or
 * failed already — final states never move.
 */
export async function failUnsent(db: Db, cxoneMessageId: string, body: Receipt, now = Date.now()): Promise<number | undefined> {
  const [, queued] = await db.batch([
    db
      .update(messages)
      .set({ state: "failed", errorCode: body.errorCode ?? null, lastError: body.errorMessage ?? null, checkAt: null, updatedAt: now })
      .where(and(eq(messages.cxoneMessageId, cxoneMessageId), eq(messages.state, "queued"))),
    reportUnless(db, cxoneMessageId, body, now, sql`AND state <> 'failed'`).returning({ id: outbox.id }),
  ]);
  return queued[0]?.id;
}

/** Queues a report for a message unless D1 has a row of it (that also matches `rows`). */
function reportUnless(db: Db, cxoneMessageId: string, body: Receipt, now: number, rows: SQL) {
  return db
    .insert(outbox)
    .select(
      sql`SELECT NULL, ${cxoneMessageId}, ${body.status}, ${JSON.stringify(body)}, 'pending', 0, ${now}, NULL, ${now}
          WHERE NOT EXISTS (SELECT 1 FROM ${messages} WHERE cxone_message_id = ${cxoneMessageId} ${rows})`,
    )
    .onConflictDoNothing();
}

/**
 * Claims a reply that is refused before it was ever queued (its recipient opted out) as failed,
 * with its FAILED report, in one transaction; true for the one caller that claimed it. Claiming it
 * queued and failing it a statement later left a moment in which a second copy (the poll, CXone's
 * repeat) found it queued and handed it to its sender, which refused it too: two FAILED reports
 * from two stores (found by the soak). The report goes in only where no row had the id, which is
 * exactly when the claim that follows it in the transaction wins.
 */
export async function claimRefused(db: Db, row: NewOutbound, body: Receipt, now = Date.now()): Promise<boolean> {
  const id = row.cxoneMessageId;
  const [, claimed] = await db.batch([
    reportUnless(db, id, body, now, sql``),
    claimStatement(db, row, now, { errorCode: body.errorCode ?? null, lastError: body.errorMessage ?? null }).returning({ id: messages.id }),
  ]);
  return claimed.length > 0;
}

/**
 * A message's reports reach CXone one at a time, oldest first (contract §3): only a message's oldest
 * pending report may be claimed. One waiting out a Retry-After, or leased to a worker that is
 * sending it, holds the later ones back — so CXone never sees DELIVERED before SENT, however long
 * SENT was delayed. The check reads the (message, status) unique index.
 */
const OLDEST_PENDING = sql`NOT EXISTS (SELECT 1 FROM outbox e WHERE e.cxone_message_id = o.cxone_message_id AND e.state = 'pending' AND e.id < o.id)`;

/**
 * Claims the due reports that are first in line for their message: of the listed messages, or
 * any (the reconciler's sweep, oldest due first). Each claimed row is leased to the caller.
 */
export async function claimReports(db: Db, now: number, opts: { messages?: string[]; limit?: number } = {}): Promise<ClaimedReport[]> {
  if (opts.messages && opts.messages.length === 0) return [];
  const scope = opts.messages ? sql`AND o.cxone_message_id IN (SELECT value FROM json_each(${JSON.stringify(opts.messages)}))` : sql``;
  const pick = sql`SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ${now} ${scope} AND ${OLDEST_PENDING} ORDER BY o.next_attempt_at LIMIT ${opts.limit ?? 100}`;
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

/** D1's outbox as a report store: refusals made before any sender object had the message. */
export function d1Reports(db: Db): ReportStore {
  return {
    claim: (now, opts) => claimReports(db, now, opts),
    done: (id) => reportDone(db, id),
    retry: (id, at, error) => reportRetry(db, id, at, error),
    dead: (row, error) => reportDead(db, row, error),
  };
}
