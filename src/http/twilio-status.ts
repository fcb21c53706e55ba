import { Hono } from "hono";
import { z } from "zod";
import { statusDeps } from "../deps";
import { isTwilioStatus, TWILIO_STATUSES } from "../domain/status";
import { applyStatus } from "../domain/status-apply";
import { log } from "../log";
import type { AppEnv } from "./app";
import { OptionalFields, presentFields, sid } from "./twilio-fields";
import { emptyTwiml, twilioBodyLimit, verifyTwilioWebhook } from "./twilio-webhook";
import { parseOr400 } from "./validate";

const StatusIdentity = z.object({ MessageSid: sid("(SM|MM)") });
/** Statuses of received messages and WhatsApp-only partial deliveries: not the bridge's to track. */
const NOT_TRACKED = ["receiving", "received", "partially_delivered"] as const;
const Status = z.enum([...TWILIO_STATUSES, ...NOT_TRACKED], { error: "is not a Twilio message status" });

export const statusRoutes = new Hono<AppEnv>().post("/twilio/status", twilioBodyLimit, async (c) => {
  const { config, fields: raw } = await verifyTwilioWebhook(c, "status");
  const fields = presentFields(raw);
  const { MessageSid } = parseOr400(StatusIdentity, fields);
  const optional = new OptionalFields(fields);
  const status = optional.get("MessageStatus", Status);
  const errorCode = optional.get("ErrorCode", z.string().regex(/^\d{1,6}$/, "must be a number"));
  optional.report("status.fields_ignored", MessageSid);
  if (status === undefined) {
    // Nothing to apply; the reconciler asks Twilio about a message that never reaches a final state.
    log("warn", "status.unusable", { messageSid: MessageSid, reason: "no usable MessageStatus" });
    return emptyTwiml(c);
  }
  if (!isTwilioStatus(status)) return emptyTwiml(c);
  await applyStatus(
    statusDeps(c.env, config),
    { sid: MessageSid, status, ...(errorCode ? { errorCode } : {}), at: Date.now() },
    "callback",
  );
  return emptyTwiml(c);
});
