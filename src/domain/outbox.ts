import type { CxoneApi } from "../adapters/cxone/client";
import type { StatusReport } from "../adapters/cxone/schemas";
import type { Db } from "../adapters/db/client";
import { claimReports, reportDead, reportDone, reportRetry, type ClaimedReport } from "../adapters/db/outbox";
import { asAppError } from "../errors";
import { log } from "../log";
import { backoffDelay, type BackoffPolicy } from "./backoff";

export interface FlushResult {
  sent: number;
  retried: number;
  dead: number;
}

/**
 * Sends queued CXone status reports (SENT and receipts). A report is claimed before it is sent,
 * so two workers never send the same one; a failure is retried with backoff until the budget,
 * then becomes a dead letter an operator can replay.
 */
export async function flushReports(db: Db, cxone: CxoneApi, policy: BackoffPolicy, opts: { ids?: number[]; limit?: number; now?: number } = {}): Promise<FlushResult> {
  const now = opts.now ?? Date.now();
  const claimed = await claimReports(db, now, opts);
  const result: FlushResult = { sent: 0, retried: 0, dead: 0 };
  const byMessage = new Map<string, ClaimedReport[]>();
  for (const row of claimed) byMessage.set(row.cxoneMessageId, [...(byMessage.get(row.cxoneMessageId) ?? []), row]);
  // Messages in parallel; one message's reports in order, and none after one that failed.
  await Promise.all(
    [...byMessage.values()].map(async (rows) => {
      let blocked: number | undefined;
      for (const row of rows) {
        if (blocked !== undefined) {
          await reportRetry(db, row.id, blocked, "waiting for an earlier report of the same message");
          result.retried += 1;
          continue;
        }
        try {
          await cxone.reportStatus(row.cxoneMessageId, JSON.parse(row.payload) as StatusReport);
          await reportDone(db, row.id);
          result.sent += 1;
          log("info", "cxone.status_reported", { cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts });
        } catch (err) {
          const error = asAppError(err);
          const reason = error.detail ?? error.publicMessage;
          if (error.retryable && row.attempts < policy.maxAttempts) {
            const delayMs = backoffDelay(row.attempts, policy, error.retryAfterMs);
            blocked = Date.now() + delayMs;
            await reportRetry(db, row.id, blocked, reason);
            result.retried += 1;
            log("warn", "cxone.retry", { cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts, delayMs, reason });
          } else {
            await reportDead(db, row, reason);
            result.dead += 1;
            log("error", "deadletter", { kind: "status", cxoneMessageId: row.cxoneMessageId, status: row.status, attempt: row.attempts, reason });
          }
        }
      }
    }),
  );
  return result;
}
