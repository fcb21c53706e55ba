import { cxonePort } from "../adapters/cxone/port";
import { idleStates, markClosed } from "../adapters/db/conversations";
import type { IdleDeps } from "./sender-idle";
import { database } from "../adapters/db/client";
import { recordDeadLetter } from "../adapters/db/dead-letters";
import { d1State, mirrorOutbound, type OutboundMirror } from "../adapters/db/outbound-mirror";
import type { TwilioMessage } from "../adapters/twilio/schemas";
import { requireConfig } from "../config";
import { policyFrom } from "../domain/backoff";
import type { CxonePort, Receipt } from "../domain/cxone";
import { flushReports, type FlushResult } from "../domain/outbox";
import { report } from "../domain/receipts";
import { advances, isTwilioStatus } from "../domain/status";
import { applyStatus } from "../domain/status-apply";
import type { QueueRow } from "./sender-queue";
import { objectReports, queueReport } from "./sender-reports";
import { applyEarly, statusDeps, type StatusHost } from "./sender-status";
import type { Lifecycle } from "./sender-send";
import { syncDirty } from "./storage";

/** Changes reach D1 about this long after they happen (the object's next wake), several messages to a statement. */
export const SYNC_DELAY_MS = 1_000;

/** What D1 keeps of a queue row: the mapping and the state, in D1's words. */
function mirrorOf(row: QueueRow): OutboundMirror {
  return {
    id: row.id,
    state: d1State(row.state, row.settled),
    sid: row.sid,
    twilioStatus: row.twilio_status,
    errorCode: row.error_code,
    lastError: row.last_error,
    attempts: row.attempts,
    carrierRetries: row.carrier_retries,
    submittedAt: row.state === "done" ? row.attempt_at : null,
  };
}

/**
 * A sent message's life after the send, kept by its sender object (contract §3, §10): its reports
 * to CXone (queued and retried here, in order), its Twilio statuses, and D1's copy of it, written
 * behind the hot path — every row changed within a second in one statement.
 */
export class SenderLifecycle implements Lifecycle, StatusHost {
  readonly db: D1Database;
  private chain: Promise<boolean> = Promise.resolve(true);
  private port: CxonePort | undefined;
  private idleDeps: IdleDeps | undefined;

  constructor(
    readonly sql: SqlStorage,
    private readonly env: Env,
    readonly now: () => number,
    private readonly key: () => string | null,
    readonly requeue: (id: string, delayMs: number, sid: string) => Promise<boolean>,
  ) {
    this.db = env.DB;
  }

  senderKey(): string {
    return this.key() ?? "";
  }

  /** The dialect's port, built once per object (every send and every report used to build it again). */
  private cxone(): CxonePort {
    return (this.port ??= cxonePort(this.env));
  }

  /** What closing this sender's idle proactive threads needs: D1's word on them, and CXone (built once, as the port). */
  idle(): IdleDeps {
    if (!this.idleDeps) {
      const db = database(this.db);
      this.idleDeps = { states: (ids) => idleStates(db, ids), close: (id) => this.cxone().close(id), markClosed: (ids) => markClosed(db, ids) };
    }
    return this.idleDeps;
  }

  /** A report the object makes itself (a failed send): queued and sent at once. */
  private async receipt(id: string, body: Receipt): Promise<void> {
    if (queueReport(this.sql, id, body, Date.now())) await this.flush({ messages: [id] });
  }

  /** Sends due reports: one message's (right after a change), or all due ones (the alarm's retries). */
  flush(opts: { messages?: string[]; now?: number } = {}): Promise<FlushResult> {
    return flushReports(objectReports(this.sql, this.db), this.cxone(), policyFrom(requireConfig(this.env)), opts);
  }

  async sent(id: string, twilio: TwilioMessage): Promise<void> {
    const now = Date.now();
    const config = requireConfig(this.env);
    this.sql.exec("UPDATE queue SET check_at = ?, check_attempts = 0 WHERE id = ?", this.now() + config.RECONCILE_AFTER_MINUTES * 60_000, id);
    const row = this.sql.exec<QueueRow>("SELECT * FROM queue WHERE id = ?", id).one();
    // A dialect that hears only final states (DFO) gets no SENT.
    if (this.cxone().reportsSent) queueReport(this.sql, id, report("SENT", new Date(row.attempt_at ?? now), { providerMessageId: row.sid }), now);
    // A send found after a lost answer may be further along already (sent, delivered, read): that
    // news goes through the status machine like a callback, after SENT, or its receipt is skipped.
    const answered = twilio.status;
    if (isTwilioStatus(answered) && (answered === "read" || advances("queued", answered))) {
      await applyStatus(statusDeps(this), { sid: twilio.sid, status: answered, ...(twilio.error_code ? { errorCode: String(twilio.error_code) } : {}), at: now }, "reconcile");
    }
    await applyEarly(this, twilio.sid);
    await this.flush({ messages: [id] });
  }

  async failed(id: string): Promise<void> {
    const row = this.sql.exec<QueueRow>("SELECT * FROM queue WHERE id = ?", id).one();
    const now = new Date();
    if (row.state === "dead") {
      await recordDeadLetter(database(this.db), { kind: "outbound", ref: id, conversationId: row.conversation_id, reason: row.last_error ?? "retries exhausted", attempts: row.attempts });
    }
    const body = row.state === "dead" ? report("FAILED", now, { errorCode: "RETRIES_EXHAUSTED", errorMessage: row.last_error }) : report("FAILED", now, { errorCode: row.error_code, errorMessage: row.last_error });
    await this.receipt(id, body);
  }

  /**
   * Writes every changed row to D1 now, in one statement per 100 rows; false when D1 failed (the
   * alarm tries again). Calls are chained, so two never write the same rows out of order.
   */
  sync(): Promise<boolean> {
    this.chain = this.chain.then(
      () => this.syncOnce(),
      () => this.syncOnce(),
    );
    return this.chain;
  }

  private async syncOnce(): Promise<boolean> {
    for (;;) {
      const written = await syncDirty<QueueRow>(this.sql, "queue", "id", (rows) => mirrorOutbound(database(this.db), rows.map(mirrorOf)));
      if (written === false) return false;
      if (written === 0) return true;
    }
  }
}
