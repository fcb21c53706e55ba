import { IDLE_CLOSE_RETRY_MS, closeThreads, type CloseDeps, type IdleThread } from "../domain/idle-close";

/**
 * The proactive threads this sender opened, each with when it closes unless the customer answers
 * (contract §3: PROACTIVE_IDLE_CLOSE_HOURS). The sender's alarm closes them: a storm's 100,000
 * alerts close as fast as CXone takes them, where the Cron's sweep took 50 a minute.
 */
export const IDLE_TABLE = `
CREATE TABLE IF NOT EXISTS idle (
  conversation_id TEXT PRIMARY KEY,
  close_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idle_due ON idle(close_at);
`;

/** Threads looked at per pass; while more are due the alarm comes straight back. */
const PER_PASS = 50;

export interface IdleDeps extends CloseDeps {
  /** D1's word on these threads: still active, and when they close unless answered (a reply clears it). */
  states(ids: string[]): Promise<Map<string, { active: boolean; idleCloseAt: number | null; campaignId: string | null }>>;
}

export function watchIdle(sql: SqlStorage, conversationId: string, closeAt: number): void {
  sql.exec("INSERT INTO idle (conversation_id, close_at) VALUES (?, ?) ON CONFLICT(conversation_id) DO NOTHING", conversationId, closeAt);
}

export function nextIdleAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(close_at) AS at FROM idle").one().at;
}

/**
 * Closes the threads due now that nobody answered: one D1 read for up to PER_PASS of them, their
 * CXone closes, one D1 write. A thread answered, closed or gone is forgotten; one whose close was
 * moved (the Cron's retry) waits for the new time; one whose close failed is tried again later.
 */
export async function closeDueThreads(sql: SqlStorage, deps: IdleDeps, now: number): Promise<void> {
  const due = sql.exec<{ id: string }>("SELECT conversation_id AS id FROM idle WHERE close_at <= ? ORDER BY close_at LIMIT ?", now, PER_PASS).toArray();
  if (due.length === 0) return;
  // Moved on before they are tried: a failure waits its turn without holding up the ones behind.
  for (const { id } of due) sql.exec("UPDATE idle SET close_at = ? WHERE conversation_id = ?", now + IDLE_CLOSE_RETRY_MS, id);
  const states = await deps.states(due.map((d) => d.id));
  const forget = (id: string) => sql.exec("DELETE FROM idle WHERE conversation_id = ?", id);
  const toClose: IdleThread[] = [];
  for (const { id } of due) {
    const state = states.get(id);
    if (!state?.active || state.idleCloseAt === null) forget(id);
    else if (state.idleCloseAt > now) sql.exec("UPDATE idle SET close_at = ? WHERE conversation_id = ?", state.idleCloseAt, id);
    else toClose.push({ id, campaignId: state.campaignId });
  }
  for (const { id } of await closeThreads(deps, toClose)) forget(id);
}
