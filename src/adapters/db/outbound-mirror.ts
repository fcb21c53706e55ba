import { sql } from "drizzle-orm";
import type { Db } from "./client";
import { messages, type MessageState } from "./schema";

/** A sender queue row's state in D1's words: the object's queue states, and whether a sent one is settled. */
export function d1State(state: string, settled: number): MessageState {
  if (state === "inflight" || state === "unknown") return "sending";
  if (state === "done") return settled === 1 ? "settled" : "submitted";
  return state as MessageState;
}

/** An outbound message as its sender object last had it: what D1 keeps of it (the mapping, the final state). */
export interface OutboundMirror {
  id: string;
  state: MessageState;
  sid: string | null;
  twilioStatus: string | null;
  errorCode: string | null;
  lastError: string | null;
  attempts: number;
  carrierRetries: number;
  submittedAt: number | null;
}

/**
 * Writes the sender object's latest word on several messages in one statement (the rows travel as
 * one JSON parameter). The object is the truth and writes whole rows, never steps, so a write
 * that comes late cannot undo a later one. `check_at` is cleared: the object asks Twilio itself.
 */
export async function mirrorOutbound(db: Db, rows: OutboundMirror[], now = Date.now()): Promise<void> {
  if (rows.length === 0) return;
  await db.run(sql`
    UPDATE ${messages} SET state = j.value ->> '$.state', message_sid = j.value ->> '$.sid', twilio_status = j.value ->> '$.twilioStatus',
           error_code = j.value ->> '$.errorCode', last_error = j.value ->> '$.lastError', attempts = j.value ->> '$.attempts',
           carrier_retries = j.value ->> '$.carrierRetries', submitted_at = j.value ->> '$.submittedAt', check_at = NULL, updated_at = ${now}
      FROM json_each(${JSON.stringify(rows)}) AS j
     WHERE ${messages.cxoneMessageId} = j.value ->> '$.id' AND ${messages.direction} = 'outbound'`);
}
