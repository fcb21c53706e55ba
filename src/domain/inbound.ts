import type { CxoneApi } from "../adapters/cxone/client";
import { isUpstreamStatus } from "../adapters/cxone/client";
import { inboundConversation, inboundMessage } from "../adapters/cxone/payloads";
import { log } from "../log";

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

/**
 * Puts one inbound message into the customer's one active CXone conversation (SPEC §4): reuse
 * the known thread, else find the active one, else create it; append with the MessageSid as
 * idempotency key; 409 (archived) → reactivate and append; 404 (gone) → create anew and append.
 * `thread` is updated in place so the caller can persist it even when a later step throws.
 */
export async function threadInbound(cxone: CxoneApi, thread: Thread, msg: InboundMessage): Promise<ThreadResult> {
  let created = false;
  let reactivated = false;

  const create = async () => {
    const conv = await cxone.createConversation(inboundConversation(msg), `conv:${msg.from}:${msg.to}:${msg.sid}:${thread.generation}`);
    thread.conversationId = conv.id;
    created = true;
    log("info", "cxone.conversation_created", { conversationId: conv.id, messageSid: msg.sid, customer: msg.from });
    return conv.id;
  };

  if (!thread.conversationId) {
    const active = await cxone.findActiveConversation(msg.from);
    if (active) thread.conversationId = active.id;
    else await create();
  }

  const append = () => cxone.appendMessage(thread.conversationId!, inboundMessage(msg), msg.sid);
  try {
    const appended = await append();
    return { conversationId: thread.conversationId!, cxoneMessageId: appended.id, created, reactivated };
  } catch (err) {
    if (isUpstreamStatus(err, 409)) {
      await cxone.updateConversation(thread.conversationId!, { status: "active", archived: false, routing: { refresh_carrier_route: true } });
      reactivated = true;
      log("info", "cxone.conversation_reactivated", { conversationId: thread.conversationId, messageSid: msg.sid });
    } else if (isUpstreamStatus(err, 404)) {
      log("warn", "cxone.conversation_gone", { conversationId: thread.conversationId, messageSid: msg.sid });
      thread.generation += 1;
      thread.conversationId = null;
      await create();
    } else {
      throw err;
    }
    const appended = await append();
    return { conversationId: thread.conversationId!, cxoneMessageId: appended.id, created, reactivated };
  }
}
