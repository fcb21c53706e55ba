import { createdInstant, type OutboundJob } from "../domain/outbound/job";
import { SendWindow } from "../domain/outbound/bucket";
import type { ObjectSchema } from "./sqlite-object";

/**
 * A sender's queue (SenderDO's storage): the table, its indexes, and the statements on the send
 * path — in one place, so that where a message's state lives and how it is read are read together.
 *
 * Sending must cost the same with 100 or 100,000 messages waiting (quiet-hours deferrals, a
 * large batch). So every statement on the send path is an index search, never a scan of the
 * queue: `heads` holds each conversation's first queued message (in createdTime order) with the
 * time it may go and whether the conversation has a send in flight; triggers keep it exact on
 * every change of a row's state or times. The next message to send is then the earliest due head.
 */
export interface QueueRow {
  seq: number;
  id: string;
  conversation_id: string;
  created_time: string;
  created_ms: number;
  enqueued_at: number;
  not_before: number;
  cost: number;
  payload: string | null;
  state: "queued" | "inflight" | "unknown" | "done" | "failed" | "dead";
  attempts: number;
  attempt_at: number | null;
  ready_at: number | null;
  dispatched_at: number | null;
  sid: string | null;
  twilio_status: string | null;
  error_code: string | null;
  last_error: string | null;
  version: number;
  synced_version: number;
  recheck: number;
  first_attempt_at: number | null;
  /** The recipient (the admin's view, the suppression list on 21610): kept after the body goes. */
  customer: string | null;
  /** The final status is applied in full (receipt queued): nothing left to ask Twilio. */
  settled: number;
  carrier_retries: number;
  /** When to ask Twilio about a sent message that has no final status yet (contract §10). */
  check_at: number | null;
  check_attempts: number;
  /** The status callbacks taken, as JSON [{status, errorCode, at}] (the admin's history). */
  statuses: string | null;
  [key: string]: SqlStorageValue;
}

const TABLES = `
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL,
  created_time TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  payload TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  attempt_at INTEGER,
  ready_at INTEGER,
  dispatched_at INTEGER,
  sid TEXT,
  twilio_status TEXT,
  error_code TEXT,
  last_error TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  synced_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_state ON queue(state, seq);
CREATE INDEX IF NOT EXISTS queue_sid ON queue(sid) WHERE sid IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_dirty ON queue(seq) WHERE synced_version < version;
CREATE TABLE IF NOT EXISTS heads (
  conversation_id TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  blocked INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS heads_due ON heads(blocked, due_at, seq);
CREATE TABLE IF NOT EXISTS order_window (ms INTEGER NOT NULL);
`;

/** A conversation's head from its rows (index searches on queue_conversation_order). */
export const headOf = (c: string) => `
    SELECT q.conversation_id, q.id, q.seq, MAX(q.not_before, q.enqueued_at + (SELECT COALESCE(MAX(ms), 0) FROM order_window)),
           EXISTS (SELECT 1 FROM queue b WHERE b.conversation_id = q.conversation_id AND b.state IN ('inflight', 'unknown'))
    FROM queue q WHERE q.conversation_id = ${c} AND q.state = 'queued' ORDER BY q.created_ms, q.seq LIMIT 1`;
const recomputeHead = (c: string) => `
  DELETE FROM heads WHERE conversation_id = ${c};
  INSERT INTO heads (conversation_id, id, seq, due_at, blocked) ${headOf(c)};`;

export const QUEUE_SCHEMA: ObjectSchema = {
  tables: TABLES,
  added: {
    queue: {
      // createdTime as an instant (ms): conversation order compares instants, never text.
      created_ms: "INTEGER",
      // Twilio's list said "not there" for a lost answer: look once more right before resending.
      recheck: "INTEGER NOT NULL DEFAULT 0",
      // The first attempt: a lost answer is matched against everything Twilio created since.
      first_attempt_at: "INTEGER",
      // The message's lifecycle after the send lives here too (contract §3, issue 12): D1 gets
      // the mapping and the final state, written behind, in batches.
      customer: "TEXT",
      settled: "INTEGER NOT NULL DEFAULT 0",
      carrier_retries: "INTEGER NOT NULL DEFAULT 0",
      check_at: "INTEGER",
      check_attempts: "INTEGER NOT NULL DEFAULT 0",
      statuses: "TEXT",
    },
  },
  finish: `
CREATE INDEX IF NOT EXISTS queue_conversation_order ON queue(conversation_id, state, created_ms, seq);
CREATE INDEX IF NOT EXISTS queue_settled ON queue(enqueued_at) WHERE state IN ('done', 'failed');
CREATE INDEX IF NOT EXISTS queue_reserved ON queue(ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_check ON queue(check_at) WHERE check_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_bodies ON queue(attempt_at) WHERE state = 'done' AND payload IS NOT NULL;
CREATE INDEX IF NOT EXISTS queue_dispatched ON queue(dispatched_at) WHERE dispatched_at IS NOT NULL;
UPDATE queue SET created_ms = enqueued_at WHERE state = 'queued' AND created_ms IS NULL;
CREATE TRIGGER IF NOT EXISTS heads_on_insert AFTER INSERT ON queue BEGIN ${recomputeHead("NEW.conversation_id")} END;
CREATE TRIGGER IF NOT EXISTS heads_on_update AFTER UPDATE OF state, not_before, created_ms ON queue BEGIN ${recomputeHead("NEW.conversation_id")} END;
CREATE TRIGGER IF NOT EXISTS heads_on_delete AFTER DELETE ON queue WHEN OLD.state IN ('queued', 'inflight', 'unknown') BEGIN ${recomputeHead("OLD.conversation_id")} END;
INSERT INTO heads (conversation_id, id, seq, due_at, blocked)
  SELECT q.conversation_id, q.id, q.seq, MAX(q.not_before, q.enqueued_at),
         EXISTS (SELECT 1 FROM queue b WHERE b.conversation_id = q.conversation_id AND b.state IN ('inflight', 'unknown'))
  FROM queue q WHERE q.state = 'queued' AND NOT EXISTS (SELECT 1 FROM heads)
    AND NOT EXISTS (SELECT 1 FROM queue e WHERE e.conversation_id = q.conversation_id AND e.state = 'queued'
                    AND (e.created_ms < q.created_ms OR (e.created_ms = q.created_ms AND e.seq < q.seq)));
`,
};

/** Heads whose opt-outs are read from D1 in one statement (src/do/sender-screen.ts). */
export const SCREEN_BATCH = 50;

/**
 * The send path's statements. Each is an index search (test/outbound/queue-plan.test.ts reads
 * their query plans): the cost of a send does not grow with the backlog.
 */
export const SEND_PATH = {
  /** The next message that may go: the earliest due head of a conversation with nothing in flight. */
  head: "SELECT q.* FROM heads h JOIN queue q ON q.seq = h.seq WHERE h.blocked = 0 AND h.due_at <= ? ORDER BY h.due_at, h.seq LIMIT 1",
  /** The heads due within a moment, in the order they will go (their opt-outs are read at once). */
  nextHeads: `SELECT q.* FROM heads h JOIN queue q ON q.seq = h.seq WHERE h.blocked = 0 AND h.due_at <= ? ORDER BY h.due_at, h.seq LIMIT ${SCREEN_BATCH}`,
  /** When the next message may go, as far as the queue decides it. */
  nextHeadAt: "SELECT MIN(due_at) AS at FROM heads WHERE blocked = 0",
  /**
   * Only the head holds a rate reservation: one left by a message that stopped being the head is
   * given up. INDEXED BY: left to itself SQLite searched queue_state (state = 'queued'), which is
   * an index search in the plan and a read of every queued row (the drain benchmark found it).
   */
  dropOtherReservations: "UPDATE queue INDEXED BY queue_reserved SET ready_at = NULL WHERE ready_at IS NOT NULL AND state = 'queued' AND id <> ?",
  /** The latest sends, newest first: the rate's window after a restart. */
  recentSends: "SELECT dispatched_at AS at, cost FROM queue INDEXED BY queue_dispatched WHERE dispatched_at IS NOT NULL ORDER BY dispatched_at DESC LIMIT ?",
  /** A sent message's body is dropped once it is old enough, final status or not. */
  dropOldBodies: "UPDATE queue SET payload = NULL WHERE state = 'done' AND payload IS NOT NULL AND attempt_at < ?",
} as const;

/**
 * The rate's window as the queue remembers it: its last sends (an object that just started, at
 * `now`). Their answers went with the instance that sent them: each counts as reaching Twilio as
 * late as it could, `now` or when the request would have been given up (`timeoutMs`).
 */
export function restoreWindow(sql: SqlStorage, rate: number, now: number, timeoutMs: number): SendWindow {
  const window = new SendWindow(rate);
  const recent = sql.exec<{ at: number; cost: number }>(SEND_PATH.recentSends, Math.ceil(rate)).toArray();
  for (const send of recent.reverse()) window.add(send.at, send.cost, Math.max(send.at, Math.min(now, send.at + timeoutMs)));
  return window;
}

/** Queues a send unless its CXone id is known already; false then. */
export function insertJob(sql: SqlStorage, job: OutboundJob, now: number): boolean {
  return (
    sql.exec(
      // D1 has the row as queued (the claim): nothing to write back until it changes.
      `INSERT INTO queue (id, conversation_id, created_time, created_ms, enqueued_at, not_before, cost, payload, state, customer, synced_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, 1) ON CONFLICT(id) DO NOTHING`,
      job.cxoneMessageId,
      job.conversationId,
      job.createdTime ?? new Date(now).toISOString(),
      createdInstant(job.createdTime) ?? now,
      now,
      job.notBefore ?? now,
      job.segments,
      JSON.stringify(job),
      job.to,
    ).rowsWritten > 0
  );
}

/** The ordering window as the triggers see it; on a change every head's due time moves with it. */
export function setOrderWindow(sql: SqlStorage, ms: number): void {
  const current = sql.exec<{ ms: number }>("SELECT ms FROM order_window").toArray()[0]?.ms;
  if (current === ms) return;
  sql.exec("DELETE FROM order_window");
  sql.exec("INSERT INTO order_window (ms) VALUES (?)", ms);
  sql.exec("UPDATE heads SET due_at = (SELECT MAX(q.not_before, q.enqueued_at + ?) FROM queue q WHERE q.seq = heads.seq)", ms);
}
