import { countSegments } from "../../src/domain/compliance/segments";
import { openapi } from "./openapi-subset";

/** A message as the emulated Twilio keeps it: the API resource plus what tests need. */
export interface EmulatedMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  num_segments: string;
  num_media: string;
  status: string;
  direction: "outbound-api";
  error_code: number | null;
  error_message: string | null;
  date_created: string;
  date_updated: string;
  date_sent: string | null;
  status_callback: string | null;
  media_urls: string[];
  /** When the API request arrived (ms), for throughput checks. */
  receivedAt: number;
}

export interface TwilioError {
  status: number;
  code: number;
  message: string;
}

/** Twilio's error JSON (code, message, more_info, status). */
export function errorBody(e: TwilioError) {
  return { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status };
}

export function newSid(prefix: string): string {
  return prefix + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Twilio's dates are RFC 2822 ("Wed, 25 Nov 2026 04:41:15 +0000"). */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace("GMT", "+0000");
}

const E164 = /^\+[1-9]\d{7,14}$/;
const MG = /^MG[0-9a-fA-F]{32}$/;

/**
 * Checks a create request the way the real API does, against the OpenAPI field list: unknown
 * fields, the required To, a sender, content, and Twilio's error codes for each.
 */
export function validateCreate(form: URLSearchParams): TwilioError | undefined {
  const known = openapi.createMessage.fields as Record<string, string>;
  for (const key of new Set(form.keys())) {
    // Twilio answers an unknown parameter with 400; 20001 ("Invalid parameter") is its generic code.
    if (!(key in known)) return { status: 400, code: 20001, message: `Invalid parameter: ${key}` };
    if (!known[key]!.endsWith("[]") && form.getAll(key).length > 1) return { status: 400, code: 20001, message: `${key} may appear once` };
  }
  const to = form.get("To");
  if (!to) return { status: 400, code: 21604, message: "A 'To' phone number is required." };
  if (!E164.test(to)) return { status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` };
  const from = form.get("From");
  const service = form.get("MessagingServiceSid");
  if (!from && !service) return { status: 400, code: 21603, message: "A 'From' phone number is required." };
  if (service && !MG.test(service)) return { status: 400, code: 21701, message: "The Messaging Service Sid is invalid." };
  if (from && !E164.test(from)) return { status: 400, code: 21212, message: `The 'From' number ${from} is not a valid phone number.` };
  const body = form.get("Body") ?? "";
  if (!body && form.getAll("MediaUrl").length === 0 && !form.get("ContentSid")) {
    return { status: 400, code: 21602, message: "Message body is required." };
  }
  if (body.length > 1600) return { status: 400, code: 21617, message: "The concatenated message body exceeds the 1600 character limit." };
  const callback = form.get("StatusCallback");
  if (callback !== null && !URL.canParse(callback)) return { status: 400, code: 21609, message: "Invalid StatusCallback URL." };
  return undefined;
}

/** The resource JSON: exactly the OpenAPI message properties. */
export function resource(m: EmulatedMessage, base: string) {
  const uri = `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}.json`;
  const full: Record<string, unknown> = {
    body: m.body,
    num_segments: m.num_segments,
    direction: m.direction,
    from: m.from,
    to: m.to,
    date_updated: m.date_updated,
    price: null,
    error_message: m.error_message,
    uri,
    account_sid: m.account_sid,
    num_media: m.num_media,
    status: m.status,
    messaging_service_sid: m.messaging_service_sid,
    sid: m.sid,
    date_sent: m.date_sent,
    date_created: m.date_created,
    error_code: m.error_code,
    price_unit: "USD",
    api_version: "2010-04-01",
    subresource_uris: { media: `${base}${uri.replace(".json", "/Media.json")}`, feedback: `${base}${uri.replace(".json", "/Feedback.json")}` },
  };
  return Object.fromEntries(Object.keys(openapi.message).map((k) => [k, full[k] ?? null]));
}

export function createMessage(form: URLSearchParams, accountSid: string, serviceNumber: string, now: number): EmulatedMessage {
  const body = form.get("Body") ?? "";
  const service = form.get("MessagingServiceSid");
  const media = form.getAll("MediaUrl");
  return {
    sid: newSid(media.length > 0 ? "MM" : "SM"),
    account_sid: accountSid,
    to: form.get("To")!,
    from: service ? serviceNumber : form.get("From"),
    messaging_service_sid: service,
    body,
    num_segments: String(countSegments(body).segments),
    num_media: String(media.length),
    status: service ? "accepted" : "queued",
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    date_created: rfc2822(now),
    date_updated: rfc2822(now),
    date_sent: rfc2822(now),
    status_callback: form.get("StatusCallback"),
    media_urls: media,
    receivedAt: now,
  };
}

/** List filters: To, From, DateSent (a UTC day), DateSent< and DateSent> (written DateSent>=). */
export function matchesQuery(m: EmulatedMessage, query: URLSearchParams): boolean {
  const day = (value: string) => Date.parse(`${value.slice(0, 10)}T00:00:00Z`);
  const sent = Date.parse(m.date_sent ?? m.date_created);
  if (query.get("To") && m.to !== query.get("To")) return false;
  if (query.get("From") && m.from !== query.get("From")) return false;
  const on = query.get("DateSent");
  if (on && !(sent >= day(on) && sent < day(on) + 86_400_000)) return false;
  const before = query.get("DateSent<");
  if (before && !(sent < day(before) + 86_400_000)) return false;
  const after = query.get("DateSent>");
  if (after && !(sent >= day(after))) return false;
  return true;
}
