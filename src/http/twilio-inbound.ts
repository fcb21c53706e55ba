import { Hono } from "hono";
import { z } from "zod";
import { threadName, type InboundMessage } from "../domain/inbound";
import { channelOf, isMessagingService } from "../domain/compliance/e164";
import { detectKeyword, keywordFromOptOutType } from "../domain/compliance/keywords";
import { countSegments } from "../domain/compliance/segments";
import { log } from "../log";
import type { AppEnv } from "./app";
import { inboundIdentity, OptionalFields, presentFields, type Fields } from "./twilio-fields";
import { emptyTwiml, twilioBodyLimit, verifyTwilioWebhook } from "./twilio-webhook";

/** Twilio sends at most 10 media items per message. */
const MAX_MEDIA = 10;
const mediaUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2_048, "longer than 2,048 characters");
// Built once: zod builds a schema far slower than it parses one (≈ 30 µs against ≈ 0.3 µs).
const shortText = (max: number) => z.string().max(max, `longer than ${max} characters`);
const coordinate = (limit: number) => z.coerce.number().min(-limit).max(limit);
const F = {
  body: z.string(),
  service: z.string().refine(isMessagingService, "must be a Messaging Service SID (MG…)"),
  segments: z.coerce.number().int().min(1),
  optOutType: z.string().max(40),
  numMedia: z.coerce.number().int().min(0).max(MAX_MEDIA),
  contentType: shortText(200),
  profileName: shortText(200),
  latitude: coordinate(90),
  longitude: coordinate(180),
  text: shortText(500),
};

/**
 * MediaUrl0…9 with their content types. NumMedia is a hint: every well-formed URL that is there is
 * taken, and a count that disagrees is noted, never a reason to refuse the text.
 */
function mediaOf(fields: Fields, optional: OptionalFields) {
  const media: { url: string; contentType: string }[] = [];
  for (let i = 0; i < MAX_MEDIA; i++) {
    const url = optional.get(`MediaUrl${i}`, mediaUrl);
    if (url === undefined) continue;
    const contentType = optional.get(`MediaContentType${i}`, F.contentType) ?? "application/octet-stream";
    media.push({ url, contentType });
  }
  const declared = optional.get("NumMedia", F.numMedia);
  if (declared !== undefined && declared !== media.length) optional.note(`NumMedia: says ${declared}, ${media.length} usable media URL(s) found`);
  return media;
}

/**
 * WhatsApp's extra fields (contract §9): the customer's profile name (shown to the agent), a shared
 * location, a button's reply. Read like every optional field: a value that does not fit is noted,
 * never a reason to refuse the text.
 */
function whatsappOf(optional: OptionalFields): Pick<InboundMessage, "profileName" | "location" | "button"> {
  const profileName = optional.get("ProfileName", F.profileName);
  const latitude = optional.get("Latitude", F.latitude);
  const longitude = optional.get("Longitude", F.longitude);
  const label = optional.get("Label", F.text);
  const address = optional.get("Address", F.text);
  const buttonText = optional.get("ButtonText", F.text);
  const buttonPayload = optional.get("ButtonPayload", F.text);
  return {
    ...(profileName ? { profileName } : {}),
    ...(latitude !== undefined && longitude !== undefined ? { location: { latitude, longitude, ...(label ? { label } : {}), ...(address ? { address } : {}) } } : {}),
    ...(buttonText || buttonPayload ? { button: { ...(buttonText ? { text: buttonText } : {}), ...(buttonPayload ? { payload: buttonPayload } : {}) } } : {}),
  };
}

export const inboundRoutes = new Hono<AppEnv>().post("/twilio/inbound", twilioBodyLimit, async (c) => {
  const started = Date.now();
  const { fields: raw } = await verifyTwilioWebhook(c, "inbound");
  const fields = presentFields(raw);
  const id = inboundIdentity(fields);
  // From here on nothing refuses the text (contract §3): Twilio does not retry a 4xx.
  const optional = new OptionalFields(fields);
  const body = optional.get("Body", F.body) ?? "";
  const service = optional.get("MessagingServiceSid", F.service);
  const whatsapp = channelOf(id.From) === "whatsapp";
  const msg: InboundMessage = {
    sid: id.MessageSid,
    from: id.From,
    to: id.To,
    body,
    media: mediaOf(fields, optional),
    // WhatsApp is not segmented: one message is one.
    segments: whatsapp ? 1 : (optional.get("NumSegments", F.segments) ?? countSegments(body).segments),
    receivedAt: new Date(started).toISOString(),
    ...(service ? { messagingServiceSid: service } : {}),
    ...(whatsapp ? whatsappOf(optional) : {}),
  };
  const keyword = keywordFromOptOutType(optional.get("OptOutType", F.optOutType)) ?? detectKeyword(body);
  if (keyword === "stop" || keyword === "start") msg.optOut = keyword;
  optional.report("inbound.fields_ignored", msg.sid);
  const { duplicate } = await c.env.CONVERSATION.getByName(threadName(msg.from, msg.to)).accept(msg);
  // The happy path is debug (the thread's `inbound.delivered` follows, or its retries and dead
  // letter at warn and error): at info only what is news, a repeat or an opt keyword.
  log(duplicate || msg.optOut ? "info" : "debug", duplicate ? "inbound.duplicate" : "inbound.accepted", {
    messageSid: msg.sid,
    from: msg.from,
    to: msg.to,
    segments: msg.segments,
    latencyMs: Date.now() - started,
    ...(msg.optOut ? { kind: `opt-${msg.optOut === "stop" ? "out" : "in"}` } : {}),
  });
  return emptyTwiml(c);
});
