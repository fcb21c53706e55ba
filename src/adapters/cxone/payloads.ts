import type { InboundMessage } from "../../domain/inbound";
import type { NewConversation, NewMessage } from "./schemas";

/** SPEC §4 "Create a conversation", for a customer who texted first. */
export function inboundConversation(msg: InboundMessage): NewConversation {
  return {
    channel_type: "sms",
    initiated_by: "customer",
    direction: "inbound",
    participants: [{ role: "customer", address: msg.from, address_type: "phone" }],
    routing: { strategy: "agent" },
    status: "active",
    properties: { business_number: msg.to },
  };
}

/** SPEC §4 "Append an inbound message"; an opt-out keyword is flagged so the agent sees it. */
export function inboundMessage(msg: InboundMessage): NewMessage {
  return {
    direction: "inbound",
    type: "text",
    content: { text: msg.body, ...(msg.media.length > 0 ? { media: msg.media } : {}) },
    metadata: {
      twilio_message_sid: msg.sid,
      from: msg.from,
      to: msg.to,
      segments: msg.segments,
      received_at: msg.receivedAt,
      ...(msg.optOut ? { opt_out: msg.optOut } : {}),
    },
  };
}
