import type { Ready } from "../../../config";
import { channelOf } from "../../../domain/compliance/e164";
import { parseUpstream } from "../../http";
import { cxoneCaller } from "../call";
import {
  ConversationList,
  ConversationRef,
  CreatedMessage,
  PollPage,
  type NewConversation,
  type NewMessage,
  type StatusReport,
} from "./schemas";
import type { TokenSource } from "../token";

/** The CXone calls the bridge makes (contract §4). Every failure is an AppError; 409/404 keep their status. */
export interface CxoneApi {
  findActiveConversation(address: string): Promise<ConversationRef | undefined>;
  createConversation(body: NewConversation, idempotencyKey: string): Promise<ConversationRef>;
  appendMessage(conversationId: string, body: NewMessage, idempotencyKey: string): Promise<{ id: string }>;
  updateConversation(conversationId: string, body: Record<string, unknown>): Promise<void>;
  pollMessages(channel: "SMS" | "WHATSAPP", cursor: string | null, pageSize?: number): Promise<{ items: unknown[]; cursor: string | null }>;
  reportStatus(cxoneMessageId: string, report: StatusReport): Promise<void>;
}

export function cxoneClient(config: Ready<"open-messaging">, tokens: TokenSource): CxoneApi {
  const call = cxoneCaller(tokens, () => config.CXONE_API_BASE, config.UPSTREAM_TIMEOUT_MS);

  return {
    async findActiveConversation(address) {
      const query = new URLSearchParams({ channel_type: channelOf(address), participant_address: address, status: "active" });
      const res = await call("GET", `/api/v2/conversations?${query}`, "the conversation lookup");
      const list = await parseUpstream("cxone", res, ConversationList, "the conversation lookup");
      return list.items.find((c) => c.archived !== true && (c.status === undefined || c.status === "active"));
    },

    async createConversation(body, idempotencyKey) {
      const res = await call("POST", "/api/v2/conversations", "the conversation create", body, { "x-idempotency-key": idempotencyKey });
      return parseUpstream("cxone", res, ConversationRef, "the conversation create");
    },

    async appendMessage(conversationId, body, idempotencyKey) {
      const res = await call("POST", `/api/v2/conversations/${encodeURIComponent(conversationId)}/messages`, "the message append", body, {
        "x-idempotency-key": idempotencyKey,
      });
      return parseUpstream("cxone", res, CreatedMessage, "the message append");
    },

    async updateConversation(conversationId, body) {
      const res = await call("PUT", `/api/v2/conversations/${encodeURIComponent(conversationId)}`, "the conversation update", body);
      await res.body?.cancel();
    },

    async pollMessages(channel, cursor, pageSize = 50) {
      const query = new URLSearchParams({ channel, direction: "OUTBOUND", pageSize: String(pageSize) });
      if (cursor) query.set("cursor", cursor);
      const res = await call("GET", `/api/v2/open-messaging/messages?${query}`, "the outbound poll");
      const page = await parseUpstream("cxone", res, PollPage, "the outbound poll");
      return { items: page.items, cursor: page.cursor ?? null };
    },

    async reportStatus(cxoneMessageId, report) {
      const res = await call("PUT", `/api/v2/open-messaging/messages/${encodeURIComponent(cxoneMessageId)}`, "the status report", report);
      await res.body?.cancel();
    },
  };
}
