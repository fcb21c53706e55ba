import type { z } from "zod";
import type { AppendMessage, CreateConversation, StatusUpdate } from "./schemas";

export interface EmuMessage {
  id: string;
  direction: "inbound" | "outbound";
  text: string;
  media?: { url: string; contentType: string }[];
  metadata?: Record<string, unknown>;
  createdTime: string;
  idempotencyKey?: string;
}

export interface EmuConversation {
  id: string;
  status: "active" | "closed";
  archived: boolean;
  customer: string;
  initiatedBy: "customer" | "business";
  proactive: boolean;
  properties: Record<string, unknown>;
  createdTime: string;
  messages: EmuMessage[];
  idempotencyKey: string;
}

/** An agent/bot reply as CXone's outbound poll lists it (contract §4). */
export interface FeedItem {
  id: string;
  conversationId: string;
  direction: "OUTBOUND";
  channel: "SMS";
  from?: string;
  to: string;
  body: string;
  status: "PENDING";
  createdTime: string;
  attachments?: { url: string; contentType?: string }[];
}

export interface StatusReportRecord {
  at: string;
  body: z.infer<typeof StatusUpdate>;
  /** Recorded, but an injected fault lost the answer: the bridge will (rightly) send it again. */
  answerLost?: boolean;
}

/** Everything the emulated CXone knows; plain data so tests and the soak can read it. */
export class CxoneState {
  conversations = new Map<string, EmuConversation>();
  /** Conversations deleted on CXone's side: their ids answer 404. */
  deleted = new Set<string>();
  /** X-Idempotency-Key → conversation id for creates; "conversationId|key" → message id for appends. */
  createKeys = new Map<string, string>();
  appendKeys = new Map<string, string>();
  feed: FeedItem[] = [];
  /** Every message id CXone knows (conversation messages and feed items), for status reports. */
  messageIds = new Set<string>();
  reports = new Map<string, StatusReportRecord[]>();
  tokenRequests = 0;
  calls: Record<string, number> = {};
  private seq = 0;

  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${this.seq.toString().padStart(6, "0")}-${Math.random().toString(36).slice(2, 8)}`;
  }

  count(what: string): void {
    this.calls[what] = (this.calls[what] ?? 0) + 1;
  }

  createConversation(body: z.infer<typeof CreateConversation>, key: string): { conversation: EmuConversation; replay: boolean } {
    const existing = this.createKeys.get(key);
    if (existing) return { conversation: this.conversations.get(existing)!, replay: true };
    const conversation: EmuConversation = {
      id: this.nextId("conv"),
      status: "active",
      archived: false,
      customer: body.participants[0]!.address,
      initiatedBy: body.initiated_by,
      proactive: body.proactive ?? false,
      properties: body.properties,
      createdTime: new Date().toISOString(),
      messages: [],
      idempotencyKey: key,
    };
    this.conversations.set(conversation.id, conversation);
    this.createKeys.set(key, conversation.id);
    return { conversation, replay: false };
  }

  append(conversation: EmuConversation, body: z.infer<typeof AppendMessage>, key: string): { message: EmuMessage; replay: boolean } {
    const scoped = `${conversation.id}|${key}`;
    const existing = this.appendKeys.get(scoped);
    if (existing) return { message: conversation.messages.find((m) => m.id === existing)!, replay: true };
    const message: EmuMessage = {
      id: this.nextId("msg"),
      direction: body.direction,
      text: body.content.text,
      media: body.content.media,
      metadata: body.metadata,
      createdTime: new Date().toISOString(),
      idempotencyKey: key,
    };
    conversation.messages.push(message);
    this.messageIds.add(message.id);
    this.appendKeys.set(scoped, message.id);
    return { message, replay: false };
  }
}
