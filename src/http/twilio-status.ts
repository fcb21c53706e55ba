import { Hono } from "hono";
import { z } from "zod";
import { statusRoute } from "../deps";
import { isTwilioStatus, TWILIO_STATUSES } from "../domain/status";
import { routeStatus } from "../domain/status-route";
import { log } from "../log";
import type { AppEnv } from "./app";
import { OptionalFields, presentFields, sid } from "./twilio-fields";
import { emptyTwiml, twilioBodyLimit, verifyTwilioWebhook } from "./twilio-webhook";
import { parseOr400 } from "./validate";

const StatusIdentity = z.object({ MessageSid: sid("(SM|MM)") });
/** Statuses of received messages and WhatsApp-only partial deliveries: not the bridge's to track. */
const NOT_TRACKED = ["receiving", "received", "partially_delivered"] as const;
const Status = z.enum([...TWILIO_STATUSES, ...NOT_TRACKED], { error: "is not a Twilio message status" });
/**
 * The routing keys the bridge put in the StatusCallback URL (src/do/sender-send.ts): the sender
 * object and the CXone message id. Signed by Twilio with the URL, so only a URL the bridge made
 * carries them; keys that do not parse are not a reason to refuse — D1's mapping is asked instead.
 */
const RoutingKeys = z.object({ o: z.string().min(1).max(80), m: z.string().min(1).max(200) });
const ErrorCode = z.string().regex(/^\d{1,6}$/, "must be a number");

export const statusRoutes = new Hono<AppEnv>().post("/twilio/status", twilioBodyLimit, async (c) => {
  const { fields: raw } = await verifyTwilioWebhook(c, "status");
  const fields = presentFields(raw);
  const { MessageSid } = parseOr400(StatusIdentity, fields);
  const optional = new OptionalFields(fields);
  const status = optional.get("MessageStatus", Status);
  const errorCode = optional.get("ErrorCode", ErrorCode);
  optional.report("status.fields_ignored", MessageSid);
  if (status === undefined) {
    // Nothing to apply; the reconciler asks Twilio about a message that never reaches a final state.
    log("warn", "status.unusable", { messageSid: MessageSid, reason: "no usable MessageStatus" });
    return emptyTwiml(c);
  }
  if (!isTwilioStatus(status)) return emptyTwiml(c);
  const keys = RoutingKeys.safeParse(c.req.query());
  if (!keys.success && (c.req.query("o") !== undefined || c.req.query("m") !== undefined)) {
    log("warn", "status.keys_unusable", { messageSid: MessageSid, reason: "routing keys in the URL did not parse; D1's mapping is asked instead" });
  }
  await routeStatus(
    statusRoute(c.env),
    { sid: MessageSid, status, ...(errorCode ? { errorCode } : {}), at: Date.now() },
    "callback",
    keys.success ? { owner: keys.data.o, cxoneMessageId: keys.data.m } : undefined,
  );
  return emptyTwiml(c);
});
