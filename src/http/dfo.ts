import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { channelFor, isKnownChannel, messageIdOf, senderForChannel } from "../adapters/cxone/dfo/channels";
import { replyOf, type DfoReply } from "../adapters/cxone/dfo/replies";
import { ReplyCallback } from "../adapters/cxone/dfo/schemas";
import { OutboundItem } from "../adapters/cxone/reply-item";
import { database } from "../adapters/db/client";
import { outboundByCxoneId } from "../adapters/db/outbound";
import { acceptDeps } from "../deps";
import { acceptOutbound } from "../domain/outbound/accept";
import { isWhatsApp } from "../domain/compliance/e164";
import { AppError } from "../errors";
import { log } from "../log";
import type { AppEnv } from "./app";
import { byocToken, clientCredentials, credentialsMatch, dfoConfig, issueToken, TOKEN_TTL_S } from "./dfo-auth";
import { describeIssues } from "./validate";

/** Identical replies (no CXone id) on a thread within this long are one SMS (contract §8). */
const DEDUPE_WINDOW_MS = 120_000;

const limit = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new AppError(413, "payload_too_large", "a CXone callback is smaller than 64 KB");
  },
});

/** The field names of a body (never its values), nested, for a log an integrator can act on. */
function keysOf(value: unknown, prefix = "", depth = 0): string[] {
  if (typeof value !== "object" || value === null || depth > 3) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const name = Array.isArray(value) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k;
    return [name, ...keysOf(v, name, depth + 1)];
  });
}

async function jsonBody(c: Context<AppEnv>, route: string): Promise<unknown> {
  try {
    return JSON.parse(await c.req.text());
  } catch {
    log("warn", "dfo.invalid_body", { route, reason: "not JSON" });
    throw new AppError(400, "invalid_json", "the body is not valid JSON");
  }
}

/** A 400 naming the field, and a log line naming the body's keys (contract §8), never a value. */
function refuse(route: string, body: unknown, problem: string): never {
  log("warn", "dfo.invalid_body", { route, reason: `${problem}; keys: ${keysOf(body).slice(0, 40).join(", ")}` });
  throw new AppError(400, "invalid_request", problem);
}

/**
 * The bridge's id for a reply: from CXone's message id when the body has one; otherwise from the
 * thread, text and attachments, the same for copies within 120 s (an agent who really sends the
 * same words twice within two minutes gets one SMS).
 */
async function replyId(channelId: string, reply: DfoReply, env: Env, now: number): Promise<string> {
  if (reply.cxoneId) return messageIdOf(channelId, "c", reply.cxoneId);
  const digest = JSON.stringify([reply.thread, reply.text, reply.attachments.map((a) => a.name ?? a.url)]);
  const bucket = Math.floor(now / DEDUPE_WINDOW_MS);
  const previous = await messageIdOf(channelId, "h", `${bucket - 1}|${digest}`);
  const earlier = await outboundByCxoneId(database(env.DB), previous);
  return earlier && earlier.createdAt >= now - DEDUPE_WINDOW_MS ? previous : messageIdOf(channelId, "h", `${bucket}|${digest}`);
}

/**
 * An agent's reply (contract §8): answered 200 once it is durably queued — the same answer for a
 * repeat, which sends nothing more. The sender is the business number whose channel this is.
 */
async function takeReply(c: Context<AppEnv>, route: string, channelId: string | undefined, postId?: string) {
  const config = dfoConfig(c.env);
  const raw = await jsonBody(c, route);
  const parsed = ReplyCallback.safeParse(raw);
  if (!parsed.success) refuse(route, raw, describeIssues(parsed.error));
  const reply = replyOf(parsed.data, postId);
  if (!reply) refuse(route, raw, "thread.idOnExternalPlatform: is required");
  if (!reply.text && reply.attachments.length === 0) refuse(route, raw, "messageContent.payload.text: is required (or attachments)");
  // The older route's path names no channel: the body's, else the default sender's.
  const channel = channelId ?? parsed.data.channel?.id ?? channelFor(config, config.TWILIO_FROM_NUMBER, config.TWILIO_MESSAGING_SERVICE_SID);
  if (!channel) refuse(route, raw, "no channel: set a \"*\" entry in CXONE_DFO_CHANNELS for CXone's older reply route");
  // Taken, not refused (a refusal shows the agent a failure and loses the reply), but said loudly:
  // it goes out from the default sender, which is rarely what a channel missing from the map meant.
  if (!isKnownChannel(config, channel)) log("warn", "dfo.unknown_channel", { route, detail: `channel ${channel} is not in CXONE_DFO_CHANNELS: sent from the default sender` });
  const now = Date.now();
  const id = await replyId(channel, reply, c.env, now);
  const from = senderForChannel(config, channel) ?? null;
  const item = OutboundItem.safeParse({
    id,
    conversationId: `${channel}:${reply.thread}`,
    to: reply.to.value,
    // contract §9: in this mode the channel says it — a WhatsApp sender's channel replies on WhatsApp.
    ...(isWhatsApp(from) ? { channel: "WHATSAPP" } : {}),
    body: reply.text,
    from,
    createdTime: new Date(now).toISOString(),
    attachments: reply.attachments.map((a) => ({ url: a.url, ...(a.mimeType ? { contentType: a.mimeType } : {}) })),
  });
  if (!item.success) {
    const issue = item.error.issues[0]!;
    const field = issue.path[0] === "to" ? reply.to.field : issue.path[0] === "body" ? "messageContent.payload.text" : issue.path.join(".");
    refuse(route, raw, `${field}: ${issue.message}`);
  }
  // Refusals (opted out, no sender) are answered 200 too: CXone hears of them as a failed status.
  // CXone learns the reply's id from this answer: a refusal's report goes after it.
  const later = (task: () => Promise<unknown>) => c.executionCtx.waitUntil(task());
  const accepted = await acceptOutbound(acceptDeps(c.env, config, later), config, item.data, "push");
  const message = { idOnExternalPlatform: id, createdAtWithMilliseconds: new Date(accepted.createdAt).toISOString() };
  return c.json({ idOnExternalPlatform: id, message, thread: { idOnExternalPlatform: reply.thread }, endUserIdentities: [{ idOnExternalPlatform: reply.to.value }] });
}

export const dfoRoutes = new Hono<AppEnv>()
  .post("/cxone/dfo/token", limit, tokenEndpoint)
  // Every BYOC sample serves it at {Integration Box URL}/1.0/token; the Authorization URL may name either.
  .post("/cxone/dfo/1.0/token", limit, tokenEndpoint)
  .post("/cxone/dfo/2.0/channel/:channelId/outbound", limit, byocToken, (c) => takeReply(c, "outbound 2.0", c.req.param("channelId")))
  .post("/cxone/dfo/1.0/posts/:postId/messages", limit, byocToken, (c) => takeReply(c, "outbound 1.0", undefined, c.req.param("postId")))
  .post("/cxone/dfo/1.0/channel/:channelId/thread/:threadId/sender-action", limit, byocToken, (c) => {
    // Typing indicators have no SMS counterpart.
    return c.body(null, 204);
  });

/**
 * The OAuth 2.0 token endpoint CXone calls (contract §8): client credentials as JSON, a form or HTTP
 * Basic, checked in constant time; a self-contained token back.
 */
async function tokenEndpoint(c: Context<AppEnv>) {
  const config = dfoConfig(c.env);
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  const text = await c.req.text();
  let body: Record<string, unknown> = {};
  if (type.startsWith("application/json")) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      return c.json({ error: "invalid_request", message: "the body is not valid JSON" }, 400);
    }
  } else if (text) {
    const form = new URLSearchParams(text);
    // RFC 6749 §3.2: a parameter sent twice is an invalid request, not "the last one wins".
    if (new Set(form.keys()).size !== [...form.keys()].length) return c.json({ error: "invalid_request", message: "a parameter was sent more than once" }, 400);
    body = Object.fromEntries(form);
  }
  // RFC 6749 §5.2: no grant at all is an invalid request; a grant the bridge does not offer is unsupported.
  if (body.grant_type === undefined) return c.json({ error: "invalid_request", message: "grant_type is required (client_credentials)" }, 400);
  if (body.grant_type !== "client_credentials") return c.json({ error: "unsupported_grant_type", message: "grant_type must be client_credentials" }, 400);
  const given = clientCredentials(c, body);
  if (!given || !credentialsMatch(config, given)) {
    log("warn", "dfo.token_refused", { reason: given ? "wrong client credentials" : "no client credentials" });
    return c.json({ error: "invalid_client", message: "unknown client or wrong secret" }, 401);
  }
  return c.json({ access_token: await issueToken(config), token_type: "Bearer", expires_in: TOKEN_TTL_S });
}
