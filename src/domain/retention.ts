import { log } from "../log";

/** What a retention pass needs: each step deletes at most `limit` rows older than `before`. */
export interface RetentionDeps {
  messages(before: number, limit: number): Promise<{ messages: number; statusEvents: number; reports: number }>;
  deadLetters(before: number, limit: number): Promise<number>;
  idempotencyRecords(before: number, limit: number): Promise<number>;
  batches(before: number, limit: number): Promise<number>;
  conversations(before: number, limit: number): Promise<number>;
}

export interface RetentionReport {
  messages: number;
  statusEvents: number;
  reports: number;
  deadLetters: number;
  idempotencyRecords: number;
  batches: number;
  conversations: number;
  chunks: number;
  /** True when a step stopped at the budget with more to delete: the next tick goes on. */
  behind: boolean;
}

/**
 * Rows per chunk and chunks per step and tick. At 500 × 40, one tick can delete 20,000 settled
 * messages (with their status history and reports): 28.8 million a day at one tick a minute,
 * 2.9× the 10 million a day the bridge is sized for, so a backlog (after an outage, say) is
 * caught up too. `npm run bench:retention` measures a full tick (README, "Data retention").
 */
export const CHUNK = 500;
export const MAX_CHUNKS = 40;

/**
 * One retention pass (contract §10), run by the Cron: everything settled and older than
 * RETENTION_DAYS, in bounded chunks, messages first (a conversation goes only once its messages
 * have), within a time budget so a tick never runs long. Quiet when there was nothing to do.
 */
export async function runRetention(deps: RetentionDeps, opts: { now: number; days: number; budgetMs: number }): Promise<RetentionReport> {
  const before = opts.now - opts.days * 86_400_000;
  const started = Date.now();
  const r: RetentionReport = { messages: 0, statusEvents: 0, reports: 0, deadLetters: 0, idempotencyRecords: 0, batches: 0, conversations: 0, chunks: 0, behind: false };
  const inBudget = () => Date.now() - started < opts.budgetMs;

  /** Repeats a chunked delete until it runs dry, MAX_CHUNKS or the budget. */
  async function drain(step: () => Promise<number>): Promise<void> {
    for (let i = 0; i < MAX_CHUNKS; i++) {
      if (!inBudget()) {
        r.behind = true;
        return;
      }
      r.chunks += 1;
      if ((await step()) < CHUNK) return;
    }
    r.behind = true;
  }

  await drain(async () => {
    const done = await deps.messages(before, CHUNK);
    r.messages += done.messages;
    r.statusEvents += done.statusEvents;
    r.reports += done.reports;
    return done.messages;
  });
  const counted = (field: "deadLetters" | "idempotencyRecords" | "batches" | "conversations", step: (before: number, limit: number) => Promise<number>) =>
    drain(async () => {
      const deleted = await step(before, CHUNK);
      r[field] += deleted;
      return deleted;
    });
  await counted("deadLetters", deps.deadLetters);
  await counted("idempotencyRecords", deps.idempotencyRecords);
  await counted("batches", deps.batches);
  await counted("conversations", deps.conversations);
  const deleted = r.messages + r.statusEvents + r.reports + r.deadLetters + r.idempotencyRecords + r.batches + r.conversations;
  if (deleted > 0 || r.behind) {
    log("info", "retention.done", { count: deleted, reason: `${r.messages} messages, ${r.statusEvents} status events, ${r.reports} reports, ${r.deadLetters} dead letters, ${r.idempotencyRecords} idempotency records, ${r.batches} batches, ${r.conversations} conversations${r.behind ? "; more left for the next tick" : ""}` });
  }
  return r;
}
