import { Hono } from "hono";
import { z } from "zod";
import { statusDeps } from "../deps";
import { TWILIO_STATUSES } from "../domain/status";
import { applyStatus } from "../domain/status-apply";
import type { AppEnv } from "./app";
import { sid, single } from "./twilio-fields";
import { emptyTwiml, twilioBodyLimit, verifyTwilioWebhook } from "./twilio-webhook";
import { parseOr400 } from "./validate";

/** Twilio's StatusCallback fields the bridge reads. */
const StatusForm = z.object({
  MessageSid: sid("(SM|MM)"),
  MessageStatus: z.enum([...TWILIO_STATUSES, "receiving", "received", "partially_delivered"], { error: "is not a Twilio message status" }),
  ErrorCode: single.regex(/^\d{1,6}$/, "must be a number").optional(),
});

export const statusRoutes = new Hono<AppEnv>().post("/twilio/status", twilioBodyLimit, async (c) => {
  const { config, fields } = await verifyTwilioWebhook(c, "status");
  const form = parseOr400(StatusForm, fields);
  // Statuses of received messages and WhatsApp-only partial deliveries are not the bridge's to track.
  if (form.MessageStatus === "receiving" || form.MessageStatus === "received" || form.MessageStatus === "partially_delivered") return emptyTwiml(c);
  await applyStatus(
    statusDeps(c.env, config),
    { sid: form.MessageSid, status: form.MessageStatus, ...(form.ErrorCode ? { errorCode: form.ErrorCode } : {}), at: Date.now() },
    "callback",
  );
  return emptyTwiml(c);
});
