
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
  /** WhatsApp (contract §9): the customer's profile name, shown to the agent as their name. */
  profileName?: string;
  /** WhatsApp: a location the customer shared. */
  location?: { latitude: number; longitude: number; label?: string; address?: string };
  /** WhatsApp: the quick-reply button the customer pressed. */
  button?: { text?: string; payload?: string };
}

/**
 * The text the agent reads: the body, and what WhatsApp carries beside it (a shared location, a
 * button's payload) spelled out, so nothing the customer sent is lost on the way into CXone.
 */
export function inboundText(msg: InboundMessage): string {
  const lines = [msg.body];
  if (msg.location) {
    const { latitude, longitude, label, address } = msg.location;
    lines.push(`[location: ${latitude},${longitude}${label ? ` ${label}` : ""}${address ? ` (${address})` : ""}]`);
  }
  if (msg.button?.payload && msg.button.payload !== msg.body) lines.push(`[button: ${msg.button.payload}]`);
  return lines.filter(Boolean).join("\n");
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
