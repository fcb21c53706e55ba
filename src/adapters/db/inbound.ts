import { sql } from "drizzle-orm";
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

/** The message's row, and a thread's conversation row, as prepared statements (./prepared.ts). */
const p = (name: string) => sql.placeholder(name);

const MESSAGE_FIELDS = [
  "direction", "messageSid", "customer", "sender", "state", "segments", "encoding", "optOut", "conversationId",
  "cxoneMessageId", "attempts", "lastError", "createdAt", "updatedAt", "checkAt",
] as const;

const upsertMessage = prepared<Record<(typeof MESSAGE_FIELDS)[number], unknown>>((db) =>
  db
    .insert(messages)
    .values(Object.fromEntries(MESSAGE_FIELDS.map((f) => [f, p(f)])) as unknown as typeof messages.$inferInsert)
    .onConflictDoUpdate({
      target: messages.messageSid,
      set: {
        state: sql`excluded.state`,
        conversationId: sql`excluded.conversation_id`,
        cxoneMessageId: sql`excluded.cxone_message_id`,
        attempts: sql`excluded.attempts`,
        lastError: sql`excluded.last_error`,
        updatedAt: sql`excluded.updated_at`,
        checkAt: sql`excluded.check_at`,
      },
      setWhere: sql`excluded.state <> 'received'`,
    }),
);

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
  await db.$client.batch(rows.flatMap((row) => inboundStatements(db, row, now)));
}

function inboundStatements(db: Db, row: InboundRow, now: number): D1PreparedStatement[] {
  const statements = [
    upsertMessage(db, {
      direction: "inbound",
      messageSid: row.sid,
      customer: row.customer,
      sender: row.business,
      state: row.state,
      segments: row.segments,
      encoding: row.encoding,
      optOut: row.optOut ?? null,
      conversationId: row.conversationId ?? null,
      cxoneMessageId: row.cxoneMessageId ?? null,
      attempts: row.attempts,
      lastError: row.lastError ?? null,
      createdAt: row.receivedAt,
      updatedAt: now,
      checkAt: row.checkAt,
    }),
  ];
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
