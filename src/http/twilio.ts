import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { AppError } from "../errors";
import { threadName, type InboundMessage } from "../domain/inbound";
import { countSegments } from "../domain/compliance/segments";
import { log } from "../log";
import { isE164 } from "../domain/compliance/e164";
import type { AppEnv } from "./app";
import { parseOr400 } from "./validate";
import { TWILIO_BODY_LIMIT, verifyTwilioWebhook } from "./twilio-webhook";

// A repeated name arrives as an array: say so, rather than "expected string".
const text = () => z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must appear once") });
const e164 = text().refine(isE164, "must be an E.164 number (+ and 8–15 digits)");
const sid = (prefix: string) => text().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a Twilio SID (${prefix}…)`);
const single = text();

/** Twilio's "a message comes in" fields that the bridge uses; others are ignored. */
const InboundForm = z.object({
  MessageSid: sid("(SM|MM)"),
  From: e164,
  To: e164,
  Body: single.max(1600).default(""),
  NumMedia: z.coerce.number().int().min(0).max(10).default(0),
  NumSegments: z.coerce.number().int().min(1).max(50).optional(),
  MessagingServiceSid: sid("MG").optional(),
});

const limit = bodyLimit({
  maxSize: TWILIO_BODY_LIMIT,
  onError: () => {
    throw new AppError(413, "payload_too_large", `Twilio webhooks are smaller than ${TWILIO_BODY_LIMIT} bytes`);
  },
});

const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

const mediaUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

/** MediaUrl0…/MediaContentType0… for as many items as NumMedia says. */
function mediaOf(fields: Record<string, string | string[]>, count: number) {
  const shape: Record<string, z.ZodType> = {};
  for (let i = 0; i < count; i++) {
    shape[`MediaUrl${i}`] = mediaUrl;
    shape[`MediaContentType${i}`] = single.max(200).default("application/octet-stream");
  }
  const parsed = parseOr400(z.object(shape), fields) as Record<string, string>;
  return Array.from({ length: count }, (_, i) => ({ url: parsed[`MediaUrl${i}`]!, contentType: parsed[`MediaContentType${i}`]! }));
}

export const twilioRoutes = new Hono<AppEnv>().post("/twilio/inbound", limit, async (c) => {
  const started = Date.now();
  const { fields } = await verifyTwilioWebhook(c, "inbound");
  const form = parseOr400(InboundForm, fields);
  const msg: InboundMessage = {
    sid: form.MessageSid,
    from: form.From,
    to: form.To,
    body: form.Body,
    media: mediaOf(fields, form.NumMedia),
    segments: form.NumSegments ?? countSegments(form.Body).segments,
    receivedAt: new Date(started).toISOString(),
    ...(form.MessagingServiceSid ? { messagingServiceSid: form.MessagingServiceSid } : {}),
  };
  const { duplicate } = await c.env.CONVERSATION.getByName(threadName(msg.from, msg.to)).accept(msg);
  log("info", duplicate ? "inbound.duplicate" : "inbound.accepted", {
    messageSid: msg.sid,
    from: msg.from,
    to: msg.to,
    segments: msg.segments,
    latencyMs: Date.now() - started,
  });
  return c.body(TWIML_EMPTY, 200, { "content-type": "text/xml; charset=utf-8" });
});
