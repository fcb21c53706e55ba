import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requireConfig, type Ready } from "../config";
import { AppError, forbidden } from "../errors";
import { log } from "../log";
import { bodyHashMatches, checkSignature, parseForm, type FormParams } from "../adapters/twilio/signature";
import type { AppEnv } from "./app";

/** Twilio webhook bodies are a few KB; anything far larger is not Twilio. */
export const TWILIO_BODY_LIMIT = 64 * 1024;

export const twilioBodyLimit = bodyLimit({
  maxSize: TWILIO_BODY_LIMIT,
  onError: () => {
    throw new AppError(413, "payload_too_large", `Twilio webhooks are smaller than ${TWILIO_BODY_LIMIT} bytes`);
  },
});

export interface VerifiedWebhook {
  config: Ready;
  /** Field name → value, or every value when Twilio (or a forger) repeated the name. */
  fields: Record<string, string | string[]>;
}

/**
 * Reads a Twilio webhook and proves it came from Twilio (contract §3): the X-Twilio-Signature over
 * PUBLIC_BASE_URL + path + query and the fields (or, for JSON, the bodySHA256 query parameter),
 * with the primary or the secondary auth token; then AccountSid. Nothing is stored before this.
 */
export async function verifyTwilioWebhook(c: Context<AppEnv>, event: string): Promise<VerifiedWebhook> {
  const config = requireConfig(c.env);
  const contentType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType !== "application/x-www-form-urlencoded" && contentType !== "application/json") {
    throw new AppError(415, "unsupported_media_type", "Twilio webhooks are application/x-www-form-urlencoded (or JSON signed through bodySHA256)");
  }
  const raw = await c.req.text();
  const requestUrl = new URL(c.req.url);
  const url = `${config.PUBLIC_BASE_URL}${requestUrl.pathname}${requestUrl.search}`;
  const json = contentType === "application/json";
  const params: FormParams = json ? new Map() : parseForm(raw);
  const tokens = [config.TWILIO_AUTH_TOKEN, ...(config.TWILIO_AUTH_TOKEN_SECONDARY ? [config.TWILIO_AUTH_TOKEN_SECONDARY] : [])];
  const check = await checkSignature(tokens, c.req.header("x-twilio-signature"), url, params);
  const bodyOk = !json || (requestUrl.searchParams.has("bodySHA256") && (await bodyHashMatches(url, raw)));
  if (!check.valid || !bodyOk) {
    // Loud on purpose: a wrong PUBLIC_BASE_URL or webhook URL shows up here, not as lost texts.
    log("warn", `${event}.signature_rejected`, {
      reason: c.req.header("x-twilio-signature") ? (check.valid ? "body hash mismatch" : "signature mismatch") : "no X-Twilio-Signature header",
      urlsTried: check.urlsTried,
    });
    throw forbidden("invalid or missing X-Twilio-Signature");
  }
  const fields = json ? jsonFields(raw) : Object.fromEntries([...params].map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
  if (fields.AccountSid !== config.TWILIO_ACCOUNT_SID) {
    log("warn", `${event}.account_rejected`, { reason: "AccountSid does not match TWILIO_ACCOUNT_SID" });
    throw forbidden("AccountSid does not match this bridge's Twilio account");
  }
  return { config, fields };
}

function jsonFields(raw: string): Record<string, string | string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AppError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AppError(400, "invalid_body", "the body must be a JSON object");
  }
  // No prototype: a "__proto__" key stays a plain (ignored) field.
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === "string") fields[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") fields[k] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) fields[k] = v;
  }
  return fields;
}

const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** The answer Twilio expects from a webhook that has nothing to say: 200, empty TwiML. */
export function emptyTwiml(c: Context<AppEnv>): Response {
  return c.body(TWIML_EMPTY, 200, { "content-type": "text/xml; charset=utf-8" });
}
