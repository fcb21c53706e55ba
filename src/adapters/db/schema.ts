import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The durable mapping CXone ⇄ Twilio. Message bodies are not kept here: they live only in
 * the Durable Object queues until delivered.
 */
export const conversations = sqliteTable(
  "conversations",
  {
    /** CXone conversation id. */
    id: text("id").primaryKey(),
    customer: text("customer").notNull(),
    /** The business number the customer texted (or the proactive sender). */
    business: text("business"),
    status: text("status", { enum: ["active", "closed", "gone"] }).notNull().default("active"),
    proactive: integer("proactive", { mode: "boolean" }).notNull().default(false),
    campaignId: text("campaign_id"),
    createdAt: integer("created_at").notNull(),
    lastInboundAt: integer("last_inbound_at"),
    /** Proactive threads: close in CXone at this time unless the customer replies first. */
    idleCloseAt: integer("idle_close_at"),
  },
  (t) => [
    index("conversations_customer_idx").on(t.customer, t.business),
    index("conversations_idle_close_idx").on(t.idleCloseAt).where(sql`idle_close_at IS NOT NULL`),
    // Retention: a conversation's last sign of life. (drizzle-kit 0.31 quotes an expression with a
    // comma wrongly: the generated line in migrations/0004_harder_faults.sql was corrected by hand.)
    index("conversations_activity_idx").on(sql`coalesce(last_inbound_at, created_at)`),
  ],
);

export const MESSAGE_STATES = [
  // inbound
  "received",
  "delivered",
  // outbound
  "queued",
  "sending",
  "submitted",
  "settled",
  "failed",
  // both
  "dead",
] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

export const messages = sqliteTable(
  "messages",
  {
    // A plain rowid: AUTOINCREMENT would write sqlite_sequence on every insert (a D1 row per message).
    id: integer("id").primaryKey(),
    direction: text("direction", { enum: ["inbound", "outbound"] }).notNull(),
    /** Outbound: the CXone message id, the idempotency key of the send. Inbound: CXone's id once appended. */
    cxoneMessageId: text("cxone_message_id"),
    /** Twilio MessageSid: the inbound idempotency key; for outbound, known once Twilio accepted. */
    messageSid: text("message_sid"),
    conversationId: text("conversation_id"),
    customer: text("customer").notNull(),
    /** Business number, or for outbound the sender object (number, MG SID, or MG SID#shard). */
    sender: text("sender"),
    state: text("state", { enum: MESSAGE_STATES }).notNull(),
    twilioStatus: text("twilio_status"),
    segments: integer("segments"),
    encoding: text("encoding"),
    attempts: integer("attempts").notNull().default(0),
    /** Re-sends after a carrier error (30008/30022): at most one. */
    carrierRetries: integer("carrier_retries").notNull().default(0),
    lastError: text("last_error"),
    errorCode: text("error_code"),
    /** Inbound opt-out keyword handling: "stop" or "start". */
    optOut: text("opt_out"),
    batchId: text("batch_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** CXone's createdTime for outbound messages (conversation order). */
    cxoneCreatedAt: text("cxone_created_at"),
    submittedAt: integer("submitted_at"),
    /** Reconciler: when this message next needs a look; NULL when nothing is pending. */
    checkAt: integer("check_at"),
    /** Reconciler looks taken since the last success: the backoff of the next one. */
    checkAttempts: integer("check_attempts").notNull().default(0),
    /** Proactive sends deferred by quiet hours: not before this time. */
    sendAfter: integer("send_after"),
  },
  (t) => [
    uniqueIndex("messages_cxone_id_uq").on(t.cxoneMessageId),
    uniqueIndex("messages_sid_uq").on(t.messageSid),
    index("messages_conversation_idx").on(t.conversationId, t.createdAt),
    index("messages_check_idx").on(t.checkAt).where(sql`check_at IS NOT NULL`),
    index("messages_batch_idx").on(t.batchId, t.state).where(sql`batch_id IS NOT NULL`),
    // Retention of outbound messages with their final word. Inbound rows are pruned by their
    // thread's object when it drops its own copy, so they need no entry here (a D1 row per text).
    index("messages_settled_idx").on(t.updatedAt).where(sql`state IN ('settled', 'failed')`),
  ],
);

/** Every Twilio status callback, in arrival order; `matched` is 0 for callbacks that beat the send's commit. */
export const statusEvents = sqliteTable(
  "status_events",
  {
    // Plain rowids here and in the outbox (see messages.id): a new one is still above every live one.
    id: integer("id").primaryKey(),
    messageSid: text("message_sid").notNull(),
    status: text("status").notNull(),
    errorCode: text("error_code"),
    receivedAt: integer("received_at").notNull(),
    matched: integer("matched", { mode: "boolean" }).notNull().default(true),
    /** Orphans: when the reconciler next tries to match it (moves forward after every try). */
    nextCheckAt: integer("next_check_at"),
    checkAttempts: integer("check_attempts").notNull().default(0),
  },
  (t) => [
    index("status_events_sid_idx").on(t.messageSid),
    index("status_events_orphan_idx").on(t.receivedAt).where(sql`matched = 0`),
    index("status_events_orphan_due_idx").on(t.nextCheckAt).where(sql`matched = 0`),
  ],
);

/** Status reports to CXone (SENT and receipts), retried durably until they land. */
export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey(),
    cxoneMessageId: text("cxone_message_id").notNull(),
    status: text("status", { enum: ["SENT", "DELIVERED", "FAILED", "UNDELIVERABLE", "READ"] }).notNull(),
    /** The JSON body of the PUT, without any message text. */
    payload: text("payload").notNull(),
    /** dropped: a SENT that would have reached CXone after the message's final report. */
    state: text("state", { enum: ["pending", "done", "dead", "dropped"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("outbox_message_status_uq").on(t.cxoneMessageId, t.status),
    index("outbox_due_idx").on(t.nextAttemptAt).where(sql`state = 'pending'`),
  ],
);

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: ["inbound", "outbound", "status"] }).notNull(),
    /** MessageSid for inbound, CXone message id for outbound and status reports. */
    ref: text("ref").notNull(),
    conversationId: text("conversation_id"),
    reason: text("reason").notNull(),
    attempts: integer("attempts").notNull(),
    state: text("state", { enum: ["open", "retried"] }).notNull().default("open"),
    createdAt: integer("created_at").notNull(),
    retriedAt: integer("retried_at"),
  },
  (t) => [
    uniqueIndex("dead_letters_ref_uq").on(t.kind, t.ref),
    index("dead_letters_open_idx").on(t.state, t.createdAt),
    index("dead_letters_resolved_idx").on(t.retriedAt).where(sql`state = 'retried'`),
  ],
);

export const optOuts = sqliteTable(
  "opt_outs",
  {
    /** The business number (or MG SID) the customer opted out of. */
    business: text("business").notNull(),
    phone: text("phone").notNull(),
    source: text("source").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.business, t.phone] }), index("opt_outs_phone_idx").on(t.phone)],
);

/**
 * The latest consent change applied per customer and business (contract §5): a keyword changes the
 * suppression list only if it is newer than the change recorded here, so a START processed late
 * (a repaired write, a replay) never undoes a later STOP. Operators' and Twilio's changes count
 * from when they were made. Kept like the suppression list: never deleted by age.
 */
export const consentChanges = sqliteTable(
  "consent_changes",
  {
    business: text("business").notNull(),
    phone: text("phone").notNull(),
    /** Order key: the customer's message time (ms) × 1024 + its place in the thread. */
    at: integer("at").notNull(),
    state: text("state", { enum: ["out", "in"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.business, t.phone] })],
);

/** The first answer to each proactive idempotency key: a repeat gets it back and sends nothing. */
export const proactiveRequests = sqliteTable(
  "proactive_requests",
  {
    idempotencyKey: text("idempotency_key").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    batchId: text("batch_id"),
    conversationId: text("conversation_id"),
    cxoneMessageId: text("cxone_message_id"),
    status: text("status", { enum: ["queued", "deferred", "refused", "failed"] }).notNull(),
    reason: text("reason"),
    sendAt: integer("send_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("proactive_requests_batch_idx").on(t.batchId).where(sql`batch_id IS NOT NULL`), index("proactive_requests_created_idx").on(t.createdAt)],
);

export const proactiveBatches = sqliteTable(
  "proactive_batches",
  {
  id: text("id").primaryKey(),
  campaignId: text("campaign_id").notNull(),
  total: integer("total").notNull(),
  accepted: integer("accepted").notNull(),
  refused: integer("refused").notNull(),
  createdAt: integer("created_at").notNull(),
  // Kept by the batch's Durable Object as it launches, so reading a batch never waits on it.
  launched: integer("launched").notNull().default(0),
  launchFailed: integer("launch_failed").notNull().default(0),
  launchRefused: integer("launch_refused").notNull().default(0),
  /** Every recipient launched, refused or failed: nothing left for its object to do. */
  finishedAt: integer("finished_at"),
  /** A large batch's message counts as last read (JSON), and when: a status read reuses them for a few seconds. */
  counts: text("counts"),
  countedAt: integer("counted_at"),
  },
  (t) => [
    // The Cron wakes unfinished batches (their object may have stopped); retention drops finished ones.
    index("proactive_batches_unfinished_idx").on(t.createdAt).where(sql`finished_at IS NULL`),
    index("proactive_batches_finished_idx").on(t.finishedAt).where(sql`finished_at IS NOT NULL`),
  ],
);
