import { database, type Db } from "../adapters/db/client";
import { recordInbound } from "../adapters/db/inbound";
import { pruneInbound } from "../adapters/db/retention";
import { requireConfig } from "../config";
import { asAppError } from "../errors";
import { log } from "../log";
import type { ObjectSchema } from "./sqlite-object";
import type { Meta } from "./storage";

/**
 * A thread's store (ConversationDO's storage): its inbound table, and how a row reaches D1 and
 * leaves it — in one place, as the sender's queue is in sender-queue.ts.
 */

/**
 * The thread's conversation row in D1 is written when the conversation changes, and otherwise at
 * most this often: its last-inbound time only feeds retention (days) and the idle-close cancel,
 * which a change of conversation always writes. One D1 statement per text, not two.
 */
const ACTIVITY_MIRROR_MS = 10 * 60_000;
/** Meta keys: the conversation whose D1 row was last written, and when. */
const MIRRORED = "mirroredConversation";
const MIRRORED_AT = "mirroredConversationAt";
/** Delivered rows pruned per pass (retention), so a pass stays short. */
const PRUNE_CHUNK = 500;

const TABLES = `
CREATE TABLE IF NOT EXISTS inbound (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL UNIQUE,
  payload TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  received_at INTEGER NOT NULL,
  segments INTEGER NOT NULL,
  encoding TEXT NOT NULL,
  opt_out TEXT,
  conversation_id TEXT,
  cxone_message_id TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  synced_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbound_pending ON inbound(state, seq);
CREATE INDEX IF NOT EXISTS inbound_dirty ON inbound(seq) WHERE synced_version < version;
`;
export const THREAD_SCHEMA: ObjectSchema = {
  tables: TABLES,
  // The Messaging Service of the number texted: a keyword suppresses for the service too.
  added: { inbound: { service: "TEXT" } },
  finish: "CREATE INDEX IF NOT EXISTS inbound_delivered ON inbound(received_at) WHERE state = 'delivered';",
};

export type InboundState = "pending" | "delivered" | "dead";

export interface Row {
  seq: number;
  sid: string;
  payload: string | null;
  state: InboundState;
  attempts: number;
  next_at: number;
  last_error: string | null;
  received_at: number;
  segments: number;
  encoding: string;
  opt_out: string | null;
  conversation_id: string | null;
  cxone_message_id: string | null;
  version: number;
  synced_version: number;
  service: string | null;
  [key: string]: SqlStorageValue;
}

/**
 * Writes the D1 mirror of these rows in one batch, their messages in one statement (the
 * conversation row too when it changed or is stale, with the first delivered row that shows it).
 */
export async function mirrorRows(env: Env, meta: Meta, rows: Row[]): Promise<void> {
  const config = requireConfig(env);
  const now = Date.now();
  let mirrored = meta.get(MIRRORED);
  let mirroredAt = Number(meta.get(MIRRORED_AT));
  let touched = false;
  const writes = rows.map((row) => {
    const conversation = row.state === "delivered" ? row.conversation_id : null;
    const touch = conversation !== null && (mirrored !== conversation || now - mirroredAt >= ACTIVITY_MIRROR_MS);
    if (touch) [mirrored, mirroredAt, touched] = [conversation, now, true];
    return {
      sid: row.sid,
      customer: meta.get("customer")!,
      business: meta.get("business")!,
      state: row.state === "pending" ? ("received" as const) : row.state,
      segments: row.segments,
      encoding: row.encoding,
      optOut: row.opt_out ?? undefined,
      conversationId: row.conversation_id,
      cxoneMessageId: row.cxone_message_id,
      attempts: row.attempts,
      lastError: row.last_error,
      receivedAt: row.received_at,
      checkAt: row.state === "pending" ? row.received_at + config.RECONCILE_AFTER_MINUTES * 60_000 : null,
      place: row.seq,
      service: row.service,
      touchConversation: touch,
    };
  });
  await recordInbound(database(env.DB), writes, now);
  if (touched) {
    meta.set(MIRRORED, mirrored!);
    meta.set(MIRRORED_AT, String(now));
  }
}

/**
 * The thread's conversation changed in a way its id may not show (reactivated, or a proactive
 * thread adopted, whose idle close the next write cancels): the next delivered text writes its row.
 */
export function conversationChanged(meta: Meta): void {
  meta.delete(MIRRORED);
}

/** Drops delivered texts past retention: their D1 rows first, so none is left behind unowned. */
export async function pruneDelivered(sql: SqlStorage, db: Db, upTo: number): Promise<void> {
  const old = sql
    .exec<{ sid: string }>("SELECT sid FROM inbound WHERE state = 'delivered' AND received_at <= ? AND synced_version = version ORDER BY received_at LIMIT ?", upTo, PRUNE_CHUNK)
    .toArray()
    .map((r) => r.sid);
  if (old.length === 0) return;
  try {
    await pruneInbound(db, old);
  } catch (err) {
    log("warn", "d1.retry", { kind: "inbound-prune", reason: asAppError(err).detail });
    return;
  }
  sql.exec("DELETE FROM inbound WHERE sid IN (SELECT value FROM json_each(?))", JSON.stringify(old));
}
