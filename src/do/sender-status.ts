import { database } from "../adapters/db/client";
import { addOptOut, outboundByCxoneId } from "../adapters/db/outbound";
import type { TwilioApi } from "../adapters/twilio/client";
import { applyStatus, type Applied, type StatusDeps, type StatusEvent, type Tracked } from "../domain/status-apply";
import { isTwilioStatus, VALIDITY_WINDOW_MS } from "../domain/status";
import { asAppError } from "../errors";
import { log } from "../log";
import type { QueueRow } from "./sender-queue";
import { queueReport } from "./sender-reports";

/**
 * Callbacks that reached the sender before the send they are about had its SID (Twilio called
 * back while the send's own answer was still on its way, or was lost): applied, in arrival
 * order, as soon as the SID is known.
 */
export const EARLY_TABLE = `
CREATE TABLE IF NOT EXISTS early (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL,
  message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS early_sid ON early(sid);
CREATE INDEX IF NOT EXISTS early_at ON early(at);
`;

/** Ask Twilio about one message at most this often while it has no final status. */
const CHECK_CAP_MS = 6 * 3600_000;
/** Looks at Twilio per pass: the rest wait for the next pass, which comes at once. */
const CHECKS_PER_PASS = 10;
/** A status history stops growing here (Twilio repeats itself; the first callbacks tell the story). */
const HISTORY_MAX = 20;
/** Early callbacks whose SID never showed up are forgotten after this long. */
const EARLY_TTL_MS = 7 * 86_400_000;

/** What the sender gives its status machine: its storage, its clock and its own steps. */
export interface StatusHost {
  sql: SqlStorage;
  db: D1Database;
  now(): number;
  /** One more try through the bucket after a carrier error (SenderDO.requeue). */
  requeue(id: string, delayMs: number, sid: string): Promise<boolean>;
  /** Sends the listed messages' pending reports, in order. */
  flush(opts: { messages: string[] }): Promise<unknown>;
  /** The object's key: the suppression list's business key for a 21610. */
  senderKey(): string | null;
}

const tracked = (row: QueueRow, sender: string | null): Tracked => ({
  cxoneMessageId: row.id,
  sid: row.sid!,
  sender,
  customer: row.customer ?? (row.payload ? (JSON.parse(row.payload) as { to: string }).to : ""),
  twilioStatus: row.twilio_status,
  settled: row.settled === 1,
  carrierRetries: row.carrier_retries,
  conversationId: row.conversation_id,
});

/**
 * The status machine's steps (src/domain/status-apply.ts) over the sender's own rows: a callback
 * costs no D1 statement. A change D1 keeps (the final state, read) bumps the row's version, and
 * the row reaches D1 with the next batched write.
 */
export function statusDeps(host: StatusHost): StatusDeps {
  const { sql } = host;
  return {
    async find(sid) {
      const row = sql.exec<QueueRow>("SELECT * FROM queue WHERE sid = ?", sid).toArray()[0];
      return row ? tracked(row, host.senderKey()) : undefined;
    },
    async record(e) {
      sql.exec(
        "UPDATE queue SET statuses = json_insert(COALESCE(statuses, '[]'), '$[#]', json_object('status', ?, 'errorCode', ?, 'at', ?)) WHERE sid = ? AND json_array_length(COALESCE(statuses, '[]')) < ?",
        e.status,
        e.errorCode ?? null,
        e.at,
        e.sid,
        HISTORY_MAX,
      );
    },
    async advance(sid, next, from, errorCode) {
      const marks = from.map(() => "?").join(", ");
      const cursor = sql.exec(
        `UPDATE queue SET twilio_status = ?, error_code = COALESCE(?, error_code), version = version + ? WHERE sid = ? AND (twilio_status IS NULL OR twilio_status IN (${marks}))`,
        next,
        errorCode ?? null,
        next === "read" ? 1 : 0,
        sid,
        ...from,
      );
      return cursor.rowsWritten > 0;
    },
    async settle(sid) {
      sql.exec("UPDATE queue SET settled = 1, check_at = NULL, version = version + 1 WHERE sid = ?", sid);
    },
    async receipt(id, body) {
      queueReport(sql, id, body, Date.now());
    },
    async flush(id) {
      await host.flush({ messages: [id] });
    },
    async suppress(t) {
      // A row queued before the object kept its recipient, whose body is gone too: D1's row knows it.
      const customer = t.customer || (await outboundByCxoneId(database(host.db), t.cxoneMessageId))?.customer;
      if (customer) await addOptOut(database(host.db), [t.sender], customer, "twilio:21610");
    },
    requeue: (t, delayMs) => host.requeue(t.cxoneMessageId, delayMs, t.sid),
    async finalize(t) {
      sql.exec("UPDATE queue SET payload = NULL WHERE id = ? AND state = 'done'", t.cxoneMessageId);
    },
  };
}

/**
 * A callback for message `id` (routing keys in its StatusCallback URL, or D1's mapping): applied
 * here, kept for later when the send's SID is not known yet, ignored when it is about an earlier
 * send of a message that was sent again. "unknown": this sender never had the message.
 */
export async function takeStatus(host: StatusHost, id: string, event: StatusEvent, source: "callback" | "reconcile" | "orphan"): Promise<Applied | "unknown" | "early"> {
  const row = host.sql.exec<QueueRow>("SELECT * FROM queue WHERE id = ?", id).toArray()[0];
  if (!row) return "unknown";
  if (row.sid === event.sid) return applyStatus(statusDeps(host), event, source);
  const ids = { cxoneMessageId: id, messageSid: event.sid, conversationId: row.conversation_id, status: event.status };
  if (row.state === "inflight" || row.state === "unknown" || (row.state === "queued" && row.recheck === 1)) {
    host.sql.exec("INSERT INTO early (sid, message_id, status, error_code, at) VALUES (?, ?, ?, ?, ?)", event.sid, id, event.status, event.errorCode ?? null, event.at);
    log("info", "status.early", ids);
    return "early";
  }
  log("info", "status.ignored", { ...ids, reason: "about an earlier send of the message" });
  return "ignored";
}

/** Applies the callbacks that came before `sid` was known, in arrival order. */
export async function applyEarly(host: StatusHost, sid: string): Promise<void> {
  const early = host.sql.exec<{ seq: number; status: string; error_code: string | null; at: number }>("SELECT * FROM early WHERE sid = ? ORDER BY seq", sid).toArray();
  for (const e of early) {
    if (isTwilioStatus(e.status)) await applyStatus(statusDeps(host), { sid, status: e.status, ...(e.error_code ? { errorCode: e.error_code } : {}), at: e.at }, "orphan");
    host.sql.exec("DELETE FROM early WHERE seq = ?", e.seq);
  }
}

export function pruneEarly(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM early WHERE seq IN (SELECT seq FROM early WHERE at <= ? ORDER BY at LIMIT 500)", now - EARLY_TTL_MS);
}

/**
 * Sent messages whose final status has not come by their check time (a lost or dropped callback):
 * asked of Twilio by their own sender, each on its own backoff — the cost follows what is stuck,
 * with no global cap per Cron tick (contract §10). Past Twilio's validity window "sent" is final.
 */
export async function checkStuck(host: StatusHost, twilio: TwilioApi, recheckMs: number): Promise<void> {
  const now = host.now();
  const due = host.sql.exec<QueueRow>("SELECT * FROM queue WHERE check_at IS NOT NULL AND check_at <= ? ORDER BY check_at LIMIT ?", now, CHECKS_PER_PASS).toArray();
  for (const row of due) {
    const later = now + Math.min(CHECK_CAP_MS, recheckMs * 2 ** row.check_attempts);
    // Moved first: a check that throws (or a restart) leaves the row behind the others.
    host.sql.exec("UPDATE queue SET check_at = ?, check_attempts = check_attempts + 1 WHERE id = ?", later, row.id);
    if (row.state !== "done" || row.settled === 1 || !row.sid) {
      host.sql.exec("UPDATE queue SET check_at = NULL WHERE id = ?", row.id);
      continue;
    }
    try {
      const found = await twilio.fetchMessage(row.sid);
      const status = found.status;
      const applied = isTwilioStatus(status)
        ? await applyStatus(statusDeps(host), { sid: row.sid, status, ...(found.error_code ? { errorCode: String(found.error_code) } : {}), at: now }, "reconcile")
        : "ignored";
      if (applied === "final" || applied === "updated") log("info", "reconcile.fixed", { cxoneMessageId: row.id, messageSid: row.sid, status, kind: "status" });
      if (applied === "final" || applied === "requeued") continue;
      if (now - (row.attempt_at ?? row.enqueued_at) > VALIDITY_WINDOW_MS) {
        settleAsSent(host.sql, row.id);
        log("info", "reconcile.fixed", { cxoneMessageId: row.id, messageSid: row.sid, status: "sent", kind: "validity-window" });
      }
    } catch (err) {
      log("warn", "reconcile.error", { kind: "status", cxoneMessageId: row.id, reason: asAppError(err).detail ?? asAppError(err).publicMessage });
    }
  }
}

/** "Sent" is the last word (Twilio's validity window has passed): settled, with no receipt beyond SENT. */
export function settleAsSent(sql: SqlStorage, id: string): void {
  sql.exec("UPDATE queue SET settled = 1, check_at = NULL, payload = NULL, version = version + 1 WHERE id = ? AND state = 'done'", id);
}

/** When the next sent message is due a look at Twilio. */
export function nextCheckAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(check_at) AS at FROM queue WHERE check_at IS NOT NULL").one().at;
}
