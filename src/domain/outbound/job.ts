import type { Ready } from "../../config";
import type { OutboundItem } from "../../adapters/cxone/reply-item";
import { channelOf, isMessagingService, isWhatsApp, type Channel } from "../compliance/e164";
import { countSegments, type Encoding } from "../compliance/segments";
import type { TemplateSend } from "../whatsapp";

/** A send waiting in a sender's queue: everything needed to hand it to Twilio, nothing more. */
export interface OutboundJob {
  cxoneMessageId: string;
  conversationId: string;
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
  /** The business number the customer texts (opt-outs are kept per business number). */
  business?: string;
  mediaUrls: string[];
  /** CXone's createdTime: the conversation order. */
  createdTime?: string;
  /** Segments for SMS; 1 for WhatsApp, whose bucket counts messages (contract §9). */
  segments: number;
  encoding: Encoding | "whatsapp";
  /** A WhatsApp template (sent by ContentSid; the window does not apply to it). */
  template?: TemplateSend;
  /** Not before this time (quiet hours). */
  notBefore?: number;
  batchId?: string;
  /** A proactive message: the customer's reply must thread into its conversation, whichever number sent it. */
  proactive?: boolean;
}

export interface Sender {
  /** The rate bucket: the Messaging Service SID or the From number. */
  key: string;
  from?: string;
  messagingServiceSid?: string;
}

/**
 * contract §4: the message's own `from`, else the business number the customer texted, else
 * TWILIO_FROM_NUMBER; with TWILIO_MESSAGING_SERVICE_SID the service sends instead (unless the
 * message names a service itself). A conversation whose business side is a Messaging Service (a
 * proactive alert before the service picked its number) sends through that service. Undefined
 * when there is no sender at all.
 */
export function resolveSender(config: Ready, from: string | null | undefined, businessNumber: string | null | undefined, channel: Channel = "sms"): Sender | undefined {
  if (channel === "whatsapp") return whatsappSender(config, from, businessNumber);
  if (from && isMessagingService(from)) return { key: from, messagingServiceSid: from };
  if (config.TWILIO_MESSAGING_SERVICE_SID) return { key: config.TWILIO_MESSAGING_SERVICE_SID, messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID };
  // A WhatsApp number is no SMS sender: a conversation that was WhatsApp's does not lend it to SMS.
  const pick = (isWhatsApp(from) ? undefined : from) ?? (isWhatsApp(businessNumber) ? undefined : businessNumber) ?? config.TWILIO_FROM_NUMBER;
  if (!pick) return undefined;
  return isMessagingService(pick) ? { key: pick, messagingServiceSid: pick } : { key: pick, from: pick };
}

/**
 * contract §9: a WhatsApp reply goes from the message's own WhatsApp sender, else the one the
 * customer last wrote to in that conversation, else WHATSAPP_FROM_NUMBER — never through the
 * Messaging Service, so the window and the bucket are those of the number the customer sees.
 */
function whatsappSender(config: Ready, from: string | null | undefined, businessNumber: string | null | undefined): Sender | undefined {
  const pick = [from, businessNumber, config.WHATSAPP_FROM_NUMBER].find(isWhatsApp);
  return pick ? { key: pick, from: pick } : undefined;
}

/** What a message costs in its sender's bucket, and how it is encoded: WhatsApp is one message, unsegmented. */
export function costOf(to: string, body: string): { segments: number; encoding: Encoding | "whatsapp" } {
  if (channelOf(to) === "whatsapp") return { segments: 1, encoding: "whatsapp" };
  const { segments, encoding } = countSegments(body);
  return { segments, encoding };
}

/**
 * CXone's createdTime as an instant (contract §10): offsets and fractional seconds normalised, so
 * `10:00:00+01:00` comes before `09:30:00Z` and `…:00Z` before `…:00.100Z`. Digits finer than a
 * millisecond are dropped (ties then keep arrival order).
 */
export function createdInstant(createdTime: string | undefined): number | undefined {
  if (!createdTime) return undefined;
  const ms = Date.parse(createdTime.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isFinite(ms) ? ms : undefined;
}

export function jobFor(item: OutboundItem, sender: Sender, extra: Pick<OutboundJob, "notBefore" | "batchId" | "business" | "proactive" | "template"> = {}): OutboundJob {
  const { encoding, segments } = costOf(item.to, item.body);
  return {
    cxoneMessageId: item.id,
    conversationId: item.conversationId,
    to: item.to,
    body: item.body,
    ...(sender.messagingServiceSid ? { messagingServiceSid: sender.messagingServiceSid } : { from: sender.from }),
    mediaUrls: (item.attachments ?? []).map((a) => a.url),
    ...(item.createdTime ? { createdTime: item.createdTime } : {}),
    segments,
    encoding,
    ...extra,
  };
}
