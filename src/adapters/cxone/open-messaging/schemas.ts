import { z } from "zod";

/** What CXone answers (contract §4), parsed before use: an unexpected shape is an upstream fault. */

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

/** A poll page. Items are parsed one by one later so that one bad item cannot stall the cursor. */
export const PollPage = z.object({
  items: z.array(z.unknown()),
  cursor: z.string().min(1).nullable().optional(),
});

export type CxoneStatus = "SENT" | "DELIVERED" | "FAILED" | "UNDELIVERABLE" | "READ";

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
  channel_type: "sms" | "whatsapp";
  initiated_by: "customer" | "business";
  direction: "inbound" | "outbound";
  proactive?: true;
  participants: { role: "customer"; address: string; address_type: "phone" | "whatsapp"; display_name?: string }[];
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
