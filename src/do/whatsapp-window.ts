import { WHATSAPP_WINDOW_MS } from "../domain/whatsapp";

/**
 * The 24-hour windows of a WhatsApp sender (contract §9), kept by the sender's own object: the
 * object that decides whether a reply may go is the one that knows when each customer last
 * wrote, so no read leaves the object on the send path. One row per customer, the latest message
 * only; a row past its window is of no more use and is pruned.
 */
export const WINDOW_TABLE = `
CREATE TABLE IF NOT EXISTS whatsapp_window (customer TEXT PRIMARY KEY, last_inbound INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS whatsapp_window_age ON whatsapp_window(last_inbound);
`;

/** Rows pruned per pass. */
const PRUNE_CHUNK = 500;

/** A customer's message at `at` opens (or extends) their window; an older one arriving late changes nothing. */
export function openWindow(sql: SqlStorage, customer: string, at: number): void {
  sql.exec(
    "INSERT INTO whatsapp_window (customer, last_inbound) VALUES (?, ?) ON CONFLICT(customer) DO UPDATE SET last_inbound = MAX(last_inbound, excluded.last_inbound)",
    customer,
    at,
  );
}

export function lastInbound(sql: SqlStorage, customer: string): number | null {
  return sql.exec<{ at: number }>("SELECT last_inbound AS at FROM whatsapp_window WHERE customer = ?", customer).toArray()[0]?.at ?? null;
}

export function pruneWindows(sql: SqlStorage, now: number): void {
  sql.exec(
    "DELETE FROM whatsapp_window WHERE customer IN (SELECT customer FROM whatsapp_window WHERE last_inbound <= ? ORDER BY last_inbound LIMIT ?)",
    now - WHATSAPP_WINDOW_MS,
    PRUNE_CHUNK,
  );
}
