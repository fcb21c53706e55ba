import { database } from "../adapters/db/client";
import { recordDeadLetter } from "../adapters/db/dead-letters";
import type { Receipt } from "../domain/cxone";
import type { ClaimedReport, ReportStore } from "../domain/outbox";

/**
 * The CXone reports (SENT and receipts) of the messages a sender object sends, kept beside its
 * queue (contract §3): queued in the same object, and in the same moment, as the state change
 * that calls for them, so a message's reports are one object's to order and retry — no D1
 * statement on the way. One report per (message, status): a repeat is ignored.
 */
export const REPORTS_TABLE = `
CREATE TABLE IF NOT EXISTS reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (message_id, status)
);
CREATE INDEX IF NOT EXISTS reports_due ON reports(next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS reports_settled ON reports(created_at) WHERE state <> 'pending';
`;

/** How long a claimed report is its sender's before it may be claimed again (a restart mid-send). */
const REPORT_LEASE_MS = 60_000;

interface ReportRow {
  id: number;
  message_id: string;
  status: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  [key: string]: SqlStorageValue;
}

/** A message's reports reach CXone one at a time, oldest first: only the oldest pending one may go. */
const FIRST_IN_LINE = "NOT EXISTS (SELECT 1 FROM reports e WHERE e.message_id = o.message_id AND e.state = 'pending' AND e.id < o.id)";

const claimed = (r: ReportRow): ClaimedReport => ({ id: r.id, cxoneMessageId: r.message_id, status: r.status, payload: r.payload, attempts: r.attempts });

/** Queues a report; false when the message has one of this status already. */
export function queueReport(sql: SqlStorage, messageId: string, body: Receipt, now: number): boolean {
  return sql.exec("INSERT INTO reports (message_id, status, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", messageId, body.status, JSON.stringify(body), now, now).rowsWritten > 0;
}

/** The object's reports as a store for flushReports; dead ones are also filed as D1 dead letters for operators. */
export function objectReports(sql: SqlStorage, db: D1Database): ReportStore {
  return {
    claim(now, opts) {
      if (opts.messages && opts.messages.length === 0) return [];
      const scope = opts.messages ? "AND o.message_id IN (SELECT value FROM json_each(?))" : "";
      const args = opts.messages ? [now, JSON.stringify(opts.messages)] : [now];
      return sql
        .exec<ReportRow>(
          `UPDATE reports SET next_attempt_at = ?, attempts = attempts + 1 WHERE id IN (
             SELECT o.id FROM reports o WHERE o.state = 'pending' AND o.next_attempt_at <= ? ${scope}
               AND ${FIRST_IN_LINE}
             ORDER BY o.next_attempt_at LIMIT ?) RETURNING *`,
          now + REPORT_LEASE_MS,
          ...args,
          opts.limit ?? 100,
        )
        .toArray()
        .sort((a, b) => a.id - b.id)
        .map(claimed);
    },
    done(id) {
      sql.exec("UPDATE reports SET state = 'done', last_error = NULL WHERE id = ?", id);
    },
    retry(id, at, error) {
      sql.exec("UPDATE reports SET next_attempt_at = ?, last_error = ? WHERE id = ?", at, error, id);
    },
    async dead(row, error) {
      sql.exec("UPDATE reports SET state = 'dead', last_error = ? WHERE id = ?", error, row.id);
      await recordDeadLetter(database(db), { kind: "status", ref: `${row.cxoneMessageId}:${row.status}`, reason: error, attempts: row.attempts });
    },
  };
}

/**
 * When the next report that may go is due (a retry, or one whose sender died mid-send). Only a
 * message's oldest pending report counts: the ones behind it are due with it, and taking their
 * (past) time would wake the object over and over for reports it may not send yet.
 */
export function nextReportAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>(`SELECT MIN(o.next_attempt_at) AS at FROM reports o WHERE o.state = 'pending' AND ${FIRST_IN_LINE}`).one().at;
}

/** An operator's replay of a dead report: pending again, now. */
export function reopenReport(sql: SqlStorage, messageId: string, status: string, now: number): boolean {
  return sql.exec("UPDATE reports SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL WHERE message_id = ? AND status = ? AND state = 'dead'", now, messageId, status).rowsWritten > 0;
}

export function reportsOf(sql: SqlStorage, messageId: string) {
  return sql
    .exec<ReportRow>("SELECT * FROM reports WHERE message_id = ? ORDER BY id", messageId)
    .toArray()
    .map(({ payload: _payload, message_id: _m, ...rest }) => rest);
}

/** Drops reports that landed (or died) before `before`, a chunk at a time. */
export function pruneReports(sql: SqlStorage, before: number, limit: number): void {
  sql.exec("DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE state <> 'pending' AND created_at <= ? ORDER BY created_at LIMIT ?)", before, limit);
}
