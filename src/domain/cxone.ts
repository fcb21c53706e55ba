import type { InboundMessage, Thread, ThreadResult } from "./inbound";

/**
 * The CXone port: everything the domain asks of CXone, whichever dialect the deployment speaks
 * (CXONE_API_MODE: open-messaging, contract §3–4, or DFO 3.0 BYOC, contract §8). The adapters under
 * src/adapters/cxone/ implement it; the edge picks one. Failures are AppErrors: retryable ones are
 * retried durably, and an upstream 404 keeps its status (`isUpstreamStatus`).
 */
export interface CxonePort {
  /** CXone hears that a message was handed to Twilio (SENT), not only its final state. */
  readonly reportsSent: boolean;
  /** Agent replies also wait in a feed the Cron polls (open-messaging); otherwise they are only pushed. */
  readonly pollsReplies: boolean;
  /** Puts a customer's message into their one conversation; `thread` is updated in place. */
  deliverInbound(thread: Thread, msg: InboundMessage): Promise<ThreadResult>;
  /** Opens the conversation of a proactive alert with its text in it (idempotent on the caller's key). */
  openProactive(alert: ProactiveAlert): Promise<{ conversationId: string; messageId: string }>;
  /** Delivers one report about an outbound message (its CXone id, as the bridge knows it). */
  report(cxoneMessageId: string, receipt: Receipt): Promise<void>;
  /** Closes a conversation nobody answered (an idle proactive one). */
  close(conversationId: string): Promise<void>;
}

export interface ProactiveAlert {
  /** The caller's idempotency key. */
  key: string;
  campaignId: string;
  to: string;
  text: string;
  /** The number the customer will see, or the Messaging Service until it has picked one. */
  business: string;
  customFields?: Record<string, string | number | boolean>;
  batchId?: string;
  /** A WhatsApp template alert: its name, language and parameters, for the agent (contract §9). */
  template?: { name: string; language?: string; parameters: string[] };
}

/**
 * What the bridge reports about an outbound message, before any dialect shapes it: kept as the
 * outbox's payload, so a report waiting for its retry is rendered by the adapter in use.
 */
export type ReceiptStatus = "SENT" | "DELIVERED" | "UNDELIVERABLE" | "FAILED" | "READ";

export interface Receipt {
  status: ReceiptStatus;
  /** When it happened, ISO 8601. */
  at: string;
  providerMessageId?: string;
  errorCode?: string;
  errorMessage?: string;
}
