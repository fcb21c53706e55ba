
/** An inbound SMS as the bridge keeps it until CXone has it (the body lives only in the DO queue). */
export interface InboundMessage {
  sid: string;
  /** The customer. */
  from: string;
  /** The business number the customer texted. */
  to: string;
  body: string;
  media: { url: string; contentType: string }[];
  segments: number;
  receivedAt: string;
  messagingServiceSid?: string;
  /** Set when the whole message is an opt-out ("stop") or opt-in ("start") keyword. */
  optOut?: "stop" | "start";
}

/** The Durable Object name of a (customer, business number) thread. */
export function threadName(customer: string, business: string): string {
  return `thread:${customer}:${business}`;
}

/** The thread a (customer, business number) pair is in, as its Durable Object remembers it. */
export interface Thread {
  conversationId: string | null;
  /** Bumped each time CXone loses a conversation, so the next create gets a fresh idempotency key. */
  generation: number;
}

export interface ThreadResult {
  conversationId: string;
  cxoneMessageId: string;
  /** The conversation this message started, if any (a new thread or one replacing a lost one). */
  created: boolean;
  reactivated: boolean;
}
