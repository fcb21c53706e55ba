import { reportsOf } from "./sender-reports";
import type { QueueRow } from "./sender-queue";

/** What a sender's queue shows operators and checks (admin, the reconciler, tests): reads only. */

export function countsByState(sql: SqlStorage): Record<string, number> {
  return Object.fromEntries(sql.exec<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM queue GROUP BY state").toArray().map((r) => [r.state, r.n]));
}

/** One message's send record, its status history and its reports to CXone. */
export function inspect(sql: SqlStorage, id: string) {
  const row = sql.exec<QueueRow>("SELECT * FROM queue WHERE id = ?", id).toArray()[0];
  if (!row) return undefined;
  const { payload: _payload, statuses, customer: _customer, ...rest } = row;
  return { ...rest, statuses: JSON.parse(statuses ?? "[]") as { status: string; errorCode: string | null; at: number }[], reports: reportsOf(sql, id) };
}

/** When the latest accepted messages were handed to Twilio, oldest first. */
export function dispatchLog(sql: SqlStorage, limit: number): { id: string; at: number; segments: number; conversationId: string }[] {
  return sql
    .exec<{ id: string; at: number; segments: number; conversationId: string }>(
      "SELECT * FROM (SELECT id, dispatched_at AS at, cost AS segments, conversation_id AS conversationId FROM queue WHERE state = 'done' AND dispatched_at IS NOT NULL ORDER BY dispatched_at DESC LIMIT ?) ORDER BY at",
      limit,
    )
    .toArray();
}

/** Of these ids, the ones this queue has never seen. */
export function unknownIds(sql: SqlStorage, ids: string[]): string[] {
  return ids.filter((id) => sql.exec("SELECT 1 FROM queue WHERE id = ?", id).toArray().length === 0);
}
