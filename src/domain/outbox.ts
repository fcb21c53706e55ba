import type { CxonePort, Receipt } from "./cxone";
import { asAppError } from "../errors";
import { log } from "../log";
import { backoffDelay, type BackoffPolicy } from "./backoff";

/** A status report claimed for sending (leased to the caller). */
export interface ClaimedReport {
  id: number;
  cxoneMessageId: string;
  status: string;
  payload: string;
  attempts: number;
}

/**
 * Where reports wait: a sender object's own table for the messages it sends (contract §3), D1's
 * outbox for refusals made before any sender had the message. Either way a report is claimed
 * before it is sent, and only a message's oldest pending report can be claimed.
 */
export interface ReportStore {
  /** The due reports first in line for their message: of the listed messages, or any (oldest due first). */
  claim(now: number, opts: { messages?: string[]; limit?: number }): Promise<ClaimedReport[]> | ClaimedReport[];
  done(id: number): Promise<void> | void;
  retry(id: number, at: number, error: string): Promise<void> | void;
  /** Given up on: a dead letter an operator can replay. */
  dead(row: ClaimedReport, error: string): Promise<void> | void;
}

export interface FlushResult {
  sent: number;
  retried: number;
  dead: number;
}

/**
 * Sends queued CXone status reports (SENT and receipts): those of the listed messages, or every
 * due one (the reconciler, a sender's alarm). Two workers never send the same one, and a
 * message's reports reach CXone in order: once one lands, the next of that message follows at
 * once; one that fails holds the rest back until its retry. A failure is retried with backoff
 * until the budget, then becomes a dead letter (and the next report may go).
 */
export async function flushReports(store: ReportStore, cxone: CxonePort, policy: BackoffPolicy, opts: { messages?: string[]; limit?: number; now?: number } = {}): Promise<FlushResult> {
  const now = opts.now ?? Date.now();
  const result: FlushResult = { sent: 0, retried: 0, dead: 0 };

  /** One report; true when the message's next report may follow. */
  async function send(row: ClaimedReport): Promise<boolean> {
    try {
      await cxone.report(row.cxoneMessageId, JSON.parse(row.payload) as Receipt);
      await store.done(row.id);
      result.sent += 1;
      log("info", "cxone.status_reported", { cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts });
      return true;
    } catch (err) {
      const error = asAppError(err);
      const reason = error.detail ?? error.publicMessage;
      if (error.retryable && row.attempts < policy.maxAttempts) {
        const delayMs = backoffDelay(row.attempts, policy, error.retryAfterMs);
        await store.retry(row.id, Date.now() + delayMs, reason);
        result.retried += 1;
        log("warn", "cxone.retry", { cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts, delayMs, reason });
        return false;
      }
      await store.dead(row, reason);
      result.dead += 1;
      log("error", "deadletter", { kind: "status", cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts, reason });
      return true;
    }
  }

  const heads = await store.claim(now, opts);
  await Promise.all(
    heads.map(async (head) => {
      let row: ClaimedReport | undefined = head;
      while (row && (await send(row))) {
        row = (await store.claim(Math.max(now, Date.now()), { messages: [row.cxoneMessageId], limit: 1 }))[0];
      }
    }),
  );
  return result;
}
