import { Hono } from "hono";
import { z } from "zod";
import { threadName, type InboundMessage } from "../domain/inbound";
import { detectKeyword, keywordFromOptOutType } from "../domain/compliance/keywords";
import { countSegments } from "../domain/compliance/segments";
import { log } from "../log";
import type { AppEnv } from "./app";
import { e164, sid, single } from "./twilio-fields";
import { parseOr400 } from "./validate";
import { emptyTwiml, twilioBodyLimit, verifyTwilioWebhook } from "./twilio-webhook";

/** Twilio's "a message comes in" fields that the bridge uses; others are ignored. */
const InboundForm = z.object({
  MessageSid: sid("(SM|MM)"),
  From: e164,
  To: e164,
  Body: single.max(1600).default(""),
  NumMedia: z.coerce.number().int().min(0).max(10).default(0),
  NumSegments: z.coerce.number().int().min(1).max(50).optional(),
  MessagingServiceSid: sid("MG").optional(),
  OptOutType: single.max(20).optional(),
});

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

export const inboundRoutes = new Hono<AppEnv>().post("/twilio/inbound", twilioBodyLimit, async (c) => {
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
  const keyword = keywordFromOptOutType(form.OptOutType) ?? detectKeyword(form.Body);
  if (keyword === "stop" || keyword === "start") msg.optOut = keyword;
  const { duplicate } = await c.env.CONVERSATION.getByName(threadName(msg.from, msg.to)).accept(msg);
  log("info", duplicate ? "inbound.duplicate" : "inbound.accepted", {
    messageSid: msg.sid,
    from: msg.from,
    to: msg.to,
    segments: msg.segments,
    latencyMs: Date.now() - started,
    ...(msg.optOut ? { kind: `opt-${msg.optOut === "stop" ? "out" : "in"}` } : {}),
  });
  return emptyTwiml(c);
});
