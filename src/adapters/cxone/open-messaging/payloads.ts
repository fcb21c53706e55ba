import type { ProactiveAlert } from "../../../domain/cxone";
import { channelOf } from "../../../domain/compliance/e164";
import { inboundText, type InboundMessage } from "../../../domain/inbound";
import type { NewConversation, NewMessage } from "./schemas";

/** contract §4 "Create a conversation", for a customer who texted first. */
export function inboundConversation(msg: InboundMessage): NewConversation {
  return {
    channel_type: channelOf(msg.from),
    initiated_by: "customer",
    direction: "inbound",
    participants: [customer(msg.from, msg.profileName)],
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
    content: { text: inboundText(msg), ...(msg.media.length > 0 ? { media: msg.media } : {}) },
    metadata: {
      twilio_message_sid: msg.sid,
      from: msg.from,
      to: msg.to,
      segments: msg.segments,
      received_at: msg.receivedAt,
      ...(msg.optOut ? { opt_out: msg.optOut } : {}),
      ...(msg.profileName ? { profile_name: msg.profileName } : {}),
    },
  };
}

/** contract §4 "Proactive conversation": the customer participant, the campaign and the caller's fields. */
export function proactiveConversation(alert: ProactiveAlert): NewConversation {
  return {
    channel_type: channelOf(alert.to),
    initiated_by: "business",
    direction: "outbound",
    proactive: true,
    participants: [customer(alert.to)],
    status: "active",
    properties: { ...alert.customFields, campaign_id: alert.campaignId, business_number: alert.business },
  };
}

/** The alert's text, appended to its conversation so the agent sees what was sent. */
export function proactiveMessage(alert: ProactiveAlert): NewMessage {
  return {
    direction: "outbound",
    type: "text",
    content: { text: alert.text },
    metadata: { campaign_id: alert.campaignId, ...(alert.batchId ? { batch_id: alert.batchId } : {}), ...(alert.template ? { whatsapp_template: alert.template } : {}) },
  };
}

/** The customer participant; on WhatsApp their address is whatsapp:+… and their profile name is shown. */
function customer(address: string, displayName?: string): NewConversation["participants"][number] {
  return { role: "customer", address, address_type: channelOf(address) === "whatsapp" ? "whatsapp" : "phone", ...(displayName ? { display_name: displayName } : {}) };
}
