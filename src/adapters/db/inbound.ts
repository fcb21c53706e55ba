import { getTableName, sql } from "drizzle-orm";
import type { Db } from "./client";
import { consentOrder, consentStatements } from "./consent";
import { deadLetterStatement } from "./dead-letters";
import { prepared, statementOf } from "./prepared";
import { conversations, messages } from "./schema";

export interface InboundRow {
  sid: string;
  customer: string;
  business: string;
  state: "received" | "delivered" | "dead";
  segments: number;
  encoding: string;
  optOut?: string;
  conversationId?: string | null;
  cxoneMessageId?: string | null;
  attempts: number;
  lastError?: string | null;
  receivedAt: number;
  /** When the reconciler should look if the message is still not in CXone by then. */
  checkAt: number | null;
  /** Its position in the thread: orders keywords received within the same millisecond. */
  place: number;
  /** The Messaging Service the texted number belongs to: an opt-out covers it too (contract §5). */
  service?: string | null;
  /** Write the conversation row too (new, changed, or its activity is stale): see thread-store.ts. */
  touchConversation: boolean;
}

/** A named placeholder of a prepared statement (./prepared.ts). */
const p = (name: string) => sql.placeholder(name);

/** The messages' columns an inbound row sets, by the JSON field of the row that carries each. */
const INBOUND_COLUMNS = {
  messageSid: "sid", customer: "customer", sender: "business", state: "state", segments: "segments", encoding: "encoding",
  optOut: "optOut", conversationId: "conversationId", cxoneMessageId: "cxoneMessageId", attempts: "attempts",
  lastError: "lastError", createdAt: "receivedAt", updatedAt: "updatedAt", checkAt: "checkAt",
} as const satisfies Partial<Record<keyof typeof messages.$inferInsert, string>>;
/** What a later write of the message changes ("received" only ever inserts). */
const UPDATED = ["state", "conversationId", "cxoneMessageId", "attempts", "lastError", "updatedAt", "checkAt"] as const;
const column = (key: keyof typeof INBOUND_COLUMNS | "direction") => messages[key].name;

/**
 * Every row's message in one statement: the rows go in as one JSON array. One statement, not one
 * per row, because a statement is what a D1 database spends its time on (about a thousand a
 * second): a busy thread writes all its texts of the last second at once. `WHERE true` is SQLite's
 * rule for an upsert from a SELECT (it would read ON as a join).
 */
const UPSERT_INBOUND = [
  `INSERT INTO ${getTableName(messages)} (${column("direction")}, ${Object.keys(INBOUND_COLUMNS).map((k) => column(k as keyof typeof INBOUND_COLUMNS)).join(", ")})`,
  `SELECT 'inbound', ${Object.values(INBOUND_COLUMNS).map((f) => `json_extract(value, '$.${f}')`).join(", ")} FROM json_each(?) WHERE true`,
  `ON CONFLICT(${column("messageSid")}) DO UPDATE SET ${UPDATED.map((k) => `${column(k)} = excluded.${column(k)}`).join(", ")}`,
  `WHERE excluded.${column("state")} <> 'received'`,
].join(" ");

const touchConversation = prepared<{ id: string; customer: string; business: string; now: number }>((db) =>
  db
    .insert(conversations)
    .values({ id: p("id"), customer: p("customer"), business: p("business"), status: "active", createdAt: p("now"), lastInboundAt: p("now") } as unknown as typeof conversations.$inferInsert)
    // A reply revives the thread and cancels any pending idle close of a proactive thread.
    .onConflictDoUpdate({ target: conversations.id, set: { status: "active", lastInboundAt: sql`excluded.last_inbound_at`, idleCloseAt: null } }),
);

/**
 * Writes the D1 mirror of inbound messages' states, one thread's rows in one batch (one round
 * trip, one transaction). "received" only ever inserts, so a late write of the first state can
 * never undo a later one.
 */
export async function recordInbound(db: Db, rows: InboundRow[], now = Date.now()): Promise<void> {
  if (rows.length === 0) return;
  const upsert = db.$client.prepare(UPSERT_INBOUND).bind(JSON.stringify(rows.map((row) => ({ ...row, updatedAt: now }))));
  await db.$client.batch([upsert, ...rows.flatMap((row) => sideStatements(db, row, now))]);
}

/** What a row writes besides its message: rarely anything. */
function sideStatements(db: Db, row: InboundRow, now: number): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  if (row.state === "delivered" && row.conversationId && row.touchConversation) {
    statements.push(touchConversation(db, { id: row.conversationId, customer: row.customer, business: row.business, now }));
  }
  if (row.state === "dead") {
    statements.push(statementOf(db, deadLetterStatement(db, { kind: "inbound", ref: row.sid, conversationId: row.conversationId, reason: row.lastError ?? "unknown", attempts: row.attempts }, now)));
  }
  // Applied with every write of the message, in the customer's order: a write repaired late, or a
  // replay, changes nothing once a later keyword has been applied.
  if (row.optOut === "stop" || row.optOut === "start") {
    const consent = consentStatements(
      db,
      { businesses: [row.business, ...(row.service ? [row.service] : [])], phone: row.customer, state: row.optOut === "stop" ? "out" : "in", at: consentOrder(row.receivedAt, row.place), source: "keyword" },
      now,
    );
    statements.push(...consent.map((q) => statementOf(db, q)));
  }
  return statements;
}

export async function markConversationGone(db: Db, conversationId: string): Promise<void> {
  await db.update(conversations).set({ status: "gone" }).where(sql`${conversations.id} = ${conversationId}`);
}
