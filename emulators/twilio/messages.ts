import { countSegments } from "../../src/domain/compliance/segments";
import type { MessageResource, MessageStatus } from "./openapi";
import { twilioOpenApi } from "./openapi-subset";
import { isWhatsApp, OUTSIDE_WINDOW, type TemplateContent } from "./whatsapp";

/** A message as the emulated Twilio keeps it: the API resource plus what the carrier and tests need. */
export interface EmulatedMessage extends MessageResource {
  // Nullable in the description, always set for a message created through the API.
  sid: string;
  account_sid: string;
  to: string;
  body: string;
  num_segments: string;
  date_created: string;
  status_callback: string | null;
  media_urls: string[];
  /** A WhatsApp template send: its Content SID and the variables it was filled with (else null). */
  content_sid: string | null;
  content_variables: Record<string, string> | null;
  /** When the create request arrived (ms), for throughput checks. */
  receivedAt: number;
}

export function newSid(prefix: string): string {
  return prefix + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Twilio's dates are RFC 2822 in GMT: "Wed, 25 Nov 2026 04:41:15 +0000". */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace("GMT", "+0000");
}

/** The texts Twilio gives the delivery errors a test is likely to simulate. */
const ERROR_MESSAGES: Record<number, string> = {
  30003: "Unreachable destination handset",
  30005: "Unknown destination handset",
  30006: "Landline or unreachable carrier",
  30007: "Carrier violation",
  30008: "Unknown error",
  [OUTSIDE_WINDOW]: "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
};

/** A message created through the API, from its already validated form (and its rendered template, if any). */
export function createMessage(form: URLSearchParams, accountSid: string, serviceNumber: string, now: number, content?: TemplateContent): EmulatedMessage {
  // A template send carries what the customer sees: the template, filled in.
  const body = content?.body ?? form.get("Body") ?? "";
  const to = form.get("To")!;
  const whatsapp = isWhatsApp(to);
  const service = form.get("MessagingServiceSid") || null;
  const media = form.getAll("MediaUrl").filter(Boolean);
  const sid = newSid(media.length > 0 ? "MM" : "SM");
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`;
  return {
    sid,
    account_sid: accountSid,
    api_version: "2010-04-01",
    to,
    // A Messaging Service picks a sender of the recipient's channel from its pool; the emulator's
    // pool is one number, on SMS and on WhatsApp.
    from: form.get("From") || (service ? `${whatsapp ? "whatsapp:" : ""}${serviceNumber}` : null),
    messaging_service_sid: service,
    body,
    // WhatsApp does not segment: one message whatever its length.
    num_segments: whatsapp ? "1" : String(countSegments(body).segments),
    num_media: String(media.length),
    // A send through a Messaging Service is "accepted" until the service has picked a sender.
    status: service ? "accepted" : "queued",
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    price: null,
    price_unit: "USD",
    // As in the description's create examples, date_sent is set from the start.
    date_created: rfc2822(now),
    date_updated: rfc2822(now),
    date_sent: rfc2822(now),
    uri,
    subresource_uris: { media: uri.replace(/\.json$/, "/Media.json"), feedback: uri.replace(/\.json$/, "/Feedback.json") },
    status_callback: form.get("StatusCallback") || null,
    media_urls: media,
    content_sid: content?.contentSid ?? null,
    content_variables: content?.variables ?? null,
    receivedAt: now,
  };
}

/** Moves a message to a new status, as Twilio's record of it (whether or not anyone is told). */
export function setStatus(m: EmulatedMessage, status: MessageStatus, errorCode: number | undefined, now: number): void {
  m.status = status;
  m.date_updated = rfc2822(now);
  if (errorCode !== undefined) {
    m.error_code = errorCode;
    m.error_message = ERROR_MESSAGES[errorCode] ?? null;
  }
}

/** The resource JSON: exactly the description's message properties, nothing of the emulator's own. */
export function resource(m: EmulatedMessage): MessageResource {
  return Object.fromEntries(Object.keys(twilioOpenApi.message).map((k) => [k, m[k as keyof MessageResource]])) as MessageResource;
}
