import type { ProactiveAlert } from "../../../domain/cxone";
import type { InboundMessage } from "../../../domain/inbound";
import type { NewConversation, NewMessage } from "./schemas";

/** contract §4 "Create a conversation", for a customer who texted first. */
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

/** contract §4 "Append an inbound message"; an opt-out keyword is flagged so the agent sees it. */
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

/** contract §4 "Proactive conversation": the customer participant, the campaign and the caller's fields. */
export function proactiveConversation(alert: ProactiveAlert): NewConversation {
  return {
    channel_type: "sms",
    initiated_by: "business",
    direction: "outbound",
    proactive: true,
    participants: [{ role: "customer", address: alert.to, address_type: "phone" }],
    status: "active",
    properties: { ...alert.customFields, campaign_id: alert.campaignId, business_number: alert.business },
  };
}

/** The alert's text, appended to its conversation so the agent sees what was sent. */
export function proactiveMessage(alert: ProactiveAlert): NewMessage {
  return { direction: "outbound", type: "text", content: { text: alert.text }, metadata: { campaign_id: alert.campaignId, ...(alert.batchId ? { batch_id: alert.batchId } : {}) } };
}
