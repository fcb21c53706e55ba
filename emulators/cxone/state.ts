import type { z } from "zod";
import type { AppendMessage, ChannelType, CreateConversation, FeedChannel, ReportStatus, StatusUpdate } from "./schemas";

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
  /** The conversation's channel_type: a customer has one conversation per channel (contract §9). */
  channelType: ChannelType;
  /** The participant's address: E.164 on SMS, whatsapp:+E.164 on WhatsApp. */
  customer: string;
  /** The participant's display_name when the create gave one (WhatsApp: the customer's profile name). */
  displayName?: string;
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
  channel: FeedChannel;
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
  /** Set when the report came out of order (see `reportRegression`), e.g. "READ before DELIVERED". */
  regression?: string;
}

/**
 * The order of a message's reports: SENT, then a final state, then (WhatsApp) READ. A report is a
 * regression when an earlier one is further along ("SENT after DELIVERED", anything after READ), or
 * when it is a READ that no DELIVERED came before or that follows a failure. The same status again
 * (a retry) is not one. Returns what was wrong, or undefined.
 */
const RANK: Record<ReportStatus, number> = { SENT: 1, DELIVERED: 2, FAILED: 2, UNDELIVERABLE: 2, READ: 3 };
export function reportRegression(earlier: readonly ReportStatus[], status: ReportStatus): string | undefined {
  // Named after the furthest one: "SENT after READ" rather than "SENT after DELIVERED".
  const ahead = earlier.reduce<ReportStatus | undefined>((far, s) => (RANK[s] > RANK[status] && (far === undefined || RANK[s] > RANK[far]) ? s : far), undefined);
  if (ahead) return `${status} after ${ahead}`;
  if (status === "READ") {
    const failure = earlier.find((s) => s === "FAILED" || s === "UNDELIVERABLE");
    if (failure) return `READ after ${failure}`;
    if (!earlier.includes("DELIVERED")) return "READ before DELIVERED";
  }
  return undefined;
}

/** The feed channel an item is listed under: WHATSAPP, else SMS (anything else put in the feed, as before). */
const feedChannelOf = (item: Pick<FeedItem, "channel">): FeedChannel => (item.channel === "WHATSAPP" ? "WHATSAPP" : "SMS");

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
  /** Status reports that came out of order (each is also marked `regression` in `reports`). */
  reportRegressions = 0;
  tokenRequests = 0;
  calls: Record<string, number> = {};
  private seq = 0;
  /** Positions in `feed` of each channel's items, indexed up to `indexed` (the feed only grows; tests push to it directly). */
  private channelPositions: Record<FeedChannel, number[]> = { SMS: [], WHATSAPP: [] };
  private indexed = 0;

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
      channelType: body.channel_type,
      customer: body.participants[0]!.address,
      ...(body.participants[0]!.display_name !== undefined ? { displayName: body.participants[0]!.display_name } : {}),
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

  /** A page of one channel's feed from `start` (a position within that channel's items). */
  feedPage(channel: FeedChannel, start: number, pageSize: number): FeedItem[] {
    if (this.indexed > this.feed.length) {
      // The feed was replaced or cut: index it again from the start.
      this.channelPositions = { SMS: [], WHATSAPP: [] };
      this.indexed = 0;
    }
    for (; this.indexed < this.feed.length; this.indexed += 1) this.channelPositions[feedChannelOf(this.feed[this.indexed]!)].push(this.indexed);
    return this.channelPositions[channel].slice(start, start + pageSize).map((position) => this.feed[position]!);
  }

  /** Records a status report in the message's history, marking (and counting) one out of order. */
  recordReport(id: string, record: StatusReportRecord): void {
    const history = this.reports.get(id) ?? [];
    const regression = reportRegression(history.map((r) => r.body.status), record.body.status);
    if (regression) {
      record.regression = regression;
      this.reportRegressions += 1;
    }
    history.push(record);
    this.reports.set(id, history);
  }
}
