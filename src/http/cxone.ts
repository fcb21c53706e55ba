import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { OutboundItem } from "../adapters/cxone/reply-item";
import { requireConfig } from "../config";
import { hmacSha256Hex, safeEqual } from "../crypto";
import { acceptDeps } from "../deps";
import { acceptOutbound } from "../domain/outbound/accept";
import { AppError, unauthorized } from "../errors";
import { log } from "../log";
import type { AppEnv } from "./app";
import { hasBearer } from "./auth";
import { parseOr400 } from "./validate";

const limit = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new AppError(413, "payload_too_large", "an outbound message is smaller than 64 KB");
  },
});

/** `X-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. */
async function hasSignature(header: string | undefined, secret: string, raw: string): Promise<boolean> {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? "");
  if (!match) return false;
  return safeEqual(match[1]!.toLowerCase(), await hmacSha256Hex(secret, raw));
}

export const cxoneRoutes = new Hono<AppEnv>().post("/cxone/outbound", limit, async (c) => {
  if (requireConfig(c.env).CXONE_API_MODE === "dfo") throw new AppError(404, "not_found", "in DFO mode CXone hands replies to /cxone/dfo/…, not /cxone/outbound");
  const config = requireConfig(c.env, "cxonePush");
  const raw = await c.req.text();
  const authorized = hasBearer(c, config.CXONE_WEBHOOK_SECRET) || (await hasSignature(c.req.header("x-signature-256"), config.CXONE_WEBHOOK_SECRET, raw));
  if (!authorized) {
    log("warn", "outbound.push_rejected", { reason: c.req.header("x-signature-256") ? "signature mismatch" : "no valid bearer token or signature" });
    throw unauthorized("a bearer token or X-Signature-256 is required");
  }
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new AppError(415, "unsupported_media_type", "send the message as application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new AppError(400, "invalid_json", "the body is not valid JSON");
  }
  const item = parseOr400(OutboundItem, body);
  // Refusals (opted out, no sender) are answered 200 too: CXone hears about them as FAILED.
  await acceptOutbound(acceptDeps(c.env, config), config, item, "push");
  return c.json({ status: "accepted", messageId: item.id });
});
