import type { Ready } from "../../config";
import type { OutboundItem } from "../../adapters/cxone/reply-item";
import { isMessagingService } from "../compliance/e164";
import { countSegments, type Encoding } from "../compliance/segments";

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
  segments: number;
  encoding: Encoding;
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
export function resolveSender(config: Ready, from: string | null | undefined, businessNumber: string | null | undefined): Sender | undefined {
  if (from && isMessagingService(from)) return { key: from, messagingServiceSid: from };
  if (config.TWILIO_MESSAGING_SERVICE_SID) return { key: config.TWILIO_MESSAGING_SERVICE_SID, messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID };
  const pick = from ?? businessNumber ?? config.TWILIO_FROM_NUMBER;
  if (!pick) return undefined;
  return isMessagingService(pick) ? { key: pick, messagingServiceSid: pick } : { key: pick, from: pick };
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

export function jobFor(item: OutboundItem, sender: Sender, extra: Pick<OutboundJob, "notBefore" | "batchId" | "business" | "proactive"> = {}): OutboundJob {
  const { encoding, segments } = countSegments(item.body);
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
