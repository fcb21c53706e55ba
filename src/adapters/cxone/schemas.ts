import { z } from "zod";
import { E164_RULE, isE164, isSenderKey } from "../../domain/compliance/e164";

/** What CXone answers (SPEC §4), parsed before use: an unexpected shape is an upstream fault. */

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
});

export const ConversationRef = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  archived: z.boolean().optional(),
});
export type ConversationRef = z.infer<typeof ConversationRef>;

export const ConversationList = z.object({ items: z.array(ConversationRef) });

export const CreatedMessage = z.object({ id: z.string().min(1) });

const e164 = z.string().refine(isE164, E164_RULE);

export const Attachment = z.object({
  url: z.url({ protocol: /^https?$/ }),
  contentType: z.string().max(200).optional(),
});

/**
 * One agent/bot reply, as CXone's poll returns it and as CXone pushes it to /cxone/outbound
 * (SPEC §3–4). `to` must be E.164; `from`, when given, is a number or a Messaging Service SID.
 */
export const OutboundItem = z.object({
  id: z.string().min(1).max(200),
  conversationId: z.string().min(1).max(200),
  to: e164,
  body: z.string().max(1600),
  from: z
    .string()
    .refine(isSenderKey, "must be an E.164 number, a short code or a Messaging Service SID")
    .nullish(),
  direction: z.literal("OUTBOUND").optional(),
  channel: z.literal("SMS").optional(),
  status: z.string().optional(),
  createdTime: z.iso.datetime({ offset: true }).optional(),
  attachments: z.array(Attachment).max(10).optional(),
});
export type OutboundItem = z.infer<typeof OutboundItem>;

/** A poll page. Items are parsed one by one later so that one bad item cannot stall the cursor. */
export const PollPage = z.object({
  items: z.array(z.unknown()),
  cursor: z.string().min(1).nullable().optional(),
});

export type CxoneStatus = "SENT" | "DELIVERED" | "FAILED" | "UNDELIVERABLE";

export interface StatusReport {
  status: CxoneStatus;
  deliveryReceipt: {
    status: CxoneStatus;
    timestamp: string;
    providerMessageId?: string;
    errorCode?: string;
    errorMessage?: string;
  };
}

export interface NewConversation {
  channel_type: "sms";
  initiated_by: "customer" | "business";
  direction: "inbound" | "outbound";
  proactive?: true;
  participants: { role: "customer"; address: string; address_type: "phone" }[];
  routing?: { strategy: "agent" };
  status: "active";
  properties: Record<string, unknown>;
}

export interface NewMessage {
  direction: "inbound" | "outbound";
  type: "text";
  content: { text: string; media?: { url: string; contentType: string }[] };
  metadata?: Record<string, unknown>;
}
