import { Hono, type Context } from "hono";
import { z } from "zod";
import { Faults, faultMiddleware } from "../faults";
import { faultRoutes } from "../control-routes";
import { addressProblem, AgentReply, AppendMessage, ChannelType, CreateConversation, FEED_CHANNEL, type FeedChannel, PollQuery, StatusUpdate, UpdateConversation } from "./schemas";
import { CxoneState, type EmuConversation, type FeedItem, type StatusReportRecord } from "./state";

export interface CxoneEmulatorOptions {
  clientId: string;
  clientSecret: string;
  /** Lifetime of issued access tokens (default 3600 s). */
  tokenTtlSec?: number;
  /** The bridge, for pushed agent replies (POST {bridgeUrl}/cxone/outbound). */
  bridgeUrl?: string;
  webhookSecret?: string;
  /** How pushes authenticate: bearer secret (default) or X-Signature-256 HMAC. */
  pushAuth?: "bearer" | "hmac";
  fetch?: typeof fetch;
  now?: () => number;
  /** Draws the injected faults (default Math.random); the soak seeds it to replay a run's faults. */
  random?: () => number;
}

export type CxoneEmulator = ReturnType<typeof createCxoneEmulator>;

const encoder = new TextEncoder();

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Each channel's feed has its own cursor sequence: SMS's is what it always was (`pos:N`), WhatsApp's
 * is marked as WhatsApp's, so that a cursor given to the other channel is refused.
 */
const CURSOR_PREFIX: Record<FeedChannel, string> = { SMS: "pos:", WHATSAPP: "whatsapp:pos:" };
const encodeCursor = (channel: FeedChannel, position: number) => btoa(`${CURSOR_PREFIX[channel]}${position}`);
function decodeCursor(channel: FeedChannel, cursor: string): number | undefined {
  try {
    const decoded = atob(cursor);
    if (!decoded.startsWith(CURSOR_PREFIX[channel])) return undefined;
    const match = /^(\d+)$/.exec(decoded.slice(CURSOR_PREFIX[channel].length));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A local NICE CXone: OAuth client-credentials tokens, conversations with idempotent create and
 * append (409 when archived or closed, 404 when deleted), the Open Messaging outbound poll with
 * an opaque cursor, status reports, and pushes of agent replies to the bridge. SMS and WhatsApp
 * (contract §9) are separate channels: a customer's conversations, replies and feed (with its own
 * cursor) are per channel.
 */
export function createCxoneEmulator(options: CxoneEmulatorOptions) {
  const state = new CxoneState();
  const faults = new Faults(options.random);
  const now = options.now ?? Date.now;
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  // Tokens carry their epoch and expiry, so any emulator instance can check them; revoking bumps the epoch.
  let epoch = 0;
  let ttlSec = options.tokenTtlSec ?? 3600;

  const error = (c: Context, status: 400 | 401 | 404 | 409, code: string, message: string) => c.json({ error: code, message }, status);
  const invalid = (c: Context, err: z.ZodError) =>
    error(c, 400, "invalid_request", err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));

  function tokenValid(header: string | undefined): boolean {
    const match = /^Bearer emu\.(\d+)\.(\d+)\.\w+$/.exec(header ?? "");
    return match !== null && Number(match[1]) === epoch && Number(match[2]) > now();
  }

  function live(c: Context, id: string): EmuConversation | Response {
    const conversation = state.conversations.get(id);
    if (!conversation || state.deleted.has(id)) return error(c, 404, "not_found", "no such conversation");
    return conversation;
  }

  async function readJson(c: Context): Promise<unknown> {
    try {
      return await c.req.json();
    } catch {
      return undefined;
    }
  }

  // The report each PUT recorded, so that a fault that loses its answer can mark it: the bridge's
  // retry of that report is then told apart from a report sent twice.
  const recorded = new WeakMap<Request, StatusReportRecord>();
  const app = new Hono();
  app.use(
    "*",
    faultMiddleware(faults, (c) => {
      const record = recorded.get(c.req.raw);
      if (record) record.answerLost = true;
    }),
  );

  app.post("/auth/token", async (c) => {
    state.tokenRequests += 1;
    const expected = `Basic ${btoa(`${options.clientId}:${options.clientSecret}`)}`;
    if (c.req.header("authorization") !== expected) return error(c, 401, "invalid_client", "bad client credentials");
    const form = new URLSearchParams(await c.req.text());
    if (form.get("grant_type") !== "client_credentials") return error(c, 400, "unsupported_grant_type", "grant_type must be client_credentials");
    const token = `emu.${epoch}.${now() + ttlSec * 1000}.${Math.random().toString(36).slice(2, 10)}`;
    return c.json({ access_token: token, token_type: "bearer", expires_in: ttlSec });
  });

  app.use("/api/*", async (c, next) => {
    if (!tokenValid(c.req.header("authorization"))) return error(c, 401, "invalid_token", "missing, expired or revoked token");
    const path = new URL(c.req.url).pathname.replace(/(conversations|messages)\/[^/]+/g, "$1/:id");
    state.count(`${c.req.method} ${path}`);
    await next();
  });

  app.get("/api/v2/conversations", (c) => {
    const address = c.req.query("participant_address");
    const status = c.req.query("status");
    const channel = ChannelType.safeParse(c.req.query("channel_type"));
    if (!channel.success || !address) return error(c, 400, "invalid_request", "channel_type=sms|whatsapp and participant_address are required");
    const problem = addressProblem(channel.data, address);
    if (problem) return error(c, 400, "invalid_request", problem);
    const items = [...state.conversations.values()]
      .filter((conv) => conv.channelType === channel.data && conv.customer === address && !state.deleted.has(conv.id) && (!status || (conv.status === status && !conv.archived)))
      .map((conv) => ({ id: conv.id, status: conv.status, archived: conv.archived }));
    return c.json({ items });
  });

  app.post("/api/v2/conversations", async (c) => {
    const key = c.req.header("x-idempotency-key");
    if (!key) return error(c, 400, "invalid_request", "X-Idempotency-Key is required");
    const body = CreateConversation.safeParse(await readJson(c));
    if (!body.success) return invalid(c, body.error);
    const { conversation } = state.createConversation(body.data, key);
    return c.json({ id: conversation.id, status: conversation.status }, 201);
  });

  app.get("/api/v2/conversations/:id", (c) => {
    const conversation = live(c, c.req.param("id"));
    return conversation instanceof Response ? conversation : c.json(conversation);
  });

  app.put("/api/v2/conversations/:id", async (c) => {
    const conversation = live(c, c.req.param("id"));
    if (conversation instanceof Response) return conversation;
    const body = UpdateConversation.safeParse(await readJson(c));
    if (!body.success) return invalid(c, body.error);
    if (body.data.status) conversation.status = body.data.status;
    if (body.data.archived !== undefined) conversation.archived = body.data.archived;
    return c.json({ id: conversation.id, status: conversation.status, archived: conversation.archived });
  });

  app.post("/api/v2/conversations/:id/messages", async (c) => {
    const key = c.req.header("x-idempotency-key");
    if (!key) return error(c, 400, "invalid_request", "X-Idempotency-Key is required");
    const conversation = live(c, c.req.param("id"));
    if (conversation instanceof Response) return conversation;
    const body = AppendMessage.safeParse(await readJson(c));
    if (!body.success) return invalid(c, body.error);
    if (conversation.archived || conversation.status !== "active") return error(c, 409, "conversation_archived", "the conversation is archived or closed");
    const { message } = state.append(conversation, body.data, key);
    return c.json({ id: message.id }, 201);
  });

  app.get("/api/v2/open-messaging/messages", (c) => {
    const query = PollQuery.safeParse(c.req.query());
    if (!query.success) return invalid(c, query.error);
    const channel = query.data.channel;
    const start = query.data.cursor === undefined ? 0 : decodeCursor(channel, query.data.cursor);
    if (start === undefined) return error(c, 400, "invalid_cursor", `the cursor is not one this API issued for channel ${channel}`);
    // Only the channel's items, each channel with its own positions.
    const items = state.feedPage(channel, start, query.data.pageSize);
    // The cursor points past the last item returned; null when there was nothing new.
    return c.json({ items, cursor: items.length > 0 ? encodeCursor(channel, start + items.length) : null });
  });

  app.put("/api/v2/open-messaging/messages/:id", async (c) => {
    const id = c.req.param("id");
    if (!state.messageIds.has(id)) return error(c, 404, "not_found", "no such message");
    const body = StatusUpdate.safeParse(await readJson(c));
    if (!body.success) return invalid(c, body.error);
    const record: StatusReportRecord = { at: new Date(now()).toISOString(), body: body.data };
    // Taken either way, as CXone would; one out of order is marked and counted (stats.reportRegressions).
    state.recordReport(id, record);
    recorded.set(c.req.raw, record);
    return c.json({ id, status: body.data.status });
  });

  /** An agent replies in a conversation: listed in the poll feed, and pushed when asked. */
  async function agentReply(input: AgentReply): Promise<{ id: string; pushed?: number }> {
    const reply = AgentReply.parse(input);
    const conversation = state.conversations.get(reply.conversationId);
    if (!conversation && reply.to === undefined) throw new Error(`unknown conversation ${reply.conversationId}`);
    const business = conversation?.properties.business_number;
    const to = reply.to ?? conversation!.customer;
    // The conversation's channel: a WhatsApp conversation's replies are WHATSAPP items, to its whatsapp: address.
    const channel = reply.channel ?? (conversation ? FEED_CHANNEL[conversation.channelType] : to.startsWith("whatsapp:") ? "WHATSAPP" : "SMS");
    const item: FeedItem = {
      id: reply.id ?? state.nextId("out"),
      conversationId: reply.conversationId,
      direction: "OUTBOUND",
      channel,
      to,
      body: reply.body,
      status: "PENDING",
      createdTime: reply.createdTime ?? new Date(now()).toISOString(),
      ...(reply.from === null ? {} : reply.from !== undefined ? { from: reply.from } : typeof business === "string" ? { from: business } : {}),
      ...(reply.attachments ? { attachments: reply.attachments } : {}),
    };
    state.feed.push(item);
    state.messageIds.add(item.id);
    conversation?.messages.push({ id: item.id, direction: "outbound", text: item.body, createdTime: item.createdTime });
    if (!reply.push) return { id: item.id };
    return { id: item.id, pushed: await push(item) };
  }

  async function push(item: FeedItem): Promise<number> {
    if (!options.bridgeUrl || !options.webhookSecret) throw new Error("pushing needs bridgeUrl and webhookSecret");
    const raw = JSON.stringify(item);
    const auth: Record<string, string> =
      options.pushAuth === "hmac"
        ? { "x-signature-256": `sha256=${await hmacHex(options.webhookSecret, raw)}` }
        : { authorization: `Bearer ${options.webhookSecret}` };
    const res = await send(`${options.bridgeUrl}/cxone/outbound`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: raw });
    await res.text();
    return res.status;
  }

  // Control surface for the demo, the soak and people poking at it with curl.
  app.get("/_emu/conversations", (c) => c.json([...state.conversations.values()]));
  app.get("/_emu/conversations/:id", (c) => {
    const conversation = state.conversations.get(c.req.param("id"));
    return conversation ? c.json(conversation) : error(c, 404, "not_found", "no such conversation");
  });
  app.get("/_emu/feed", (c) => c.json(state.feed));
  app.get("/_emu/reports", (c) => c.json(Object.fromEntries(state.reports)));
  app.get("/_emu/stats", (c) => c.json({ tokenRequests: state.tokenRequests, calls: state.calls, faults: faults.fired, reportRegressions: state.reportRegressions }));
  // Message ids the bridge will report on without a reply through this emulator (the drain bench
  // enqueues straight into a sender): their reports are taken, not refused as unknown.
  app.post("/_emu/known-messages", async (c) => {
    const ids = z.array(z.string().max(200)).max(200_000).parse(await c.req.json());
    for (const id of ids) state.messageIds.add(id);
    return c.json({ known: state.messageIds.size });
  });
  app.post("/_emu/agent-reply", async (c) => {
    const body = AgentReply.safeParse(await readJson(c));
    if (!body.success) return invalid(c, body.error);
    return c.json(await agentReply(body.data), 201);
  });
  app.post("/_emu/conversations/:id/:action{archive|close|delete}", (c) => {
    const conversation = state.conversations.get(c.req.param("id"));
    if (!conversation) return error(c, 404, "not_found", "no such conversation");
    const action = c.req.param("action");
    if (action === "archive") conversation.archived = true;
    if (action === "close") conversation.status = "closed";
    if (action === "delete") state.deleted.add(conversation.id);
    return c.json({ id: conversation.id, action });
  });
  app.post("/_emu/revoke-tokens", (c) => {
    epoch += 1;
    return c.json({ epoch });
  });
  app.put("/_emu/token-ttl/:sec{[0-9]+}", (c) => {
    ttlSec = Number(c.req.param("sec"));
    return c.json({ ttlSec });
  });
  app.route("/_emu", faultRoutes(faults));

  return {
    app,
    state,
    faults,
    agentReply,
    revokeTokens: () => void (epoch += 1),
    setTokenTtl: (sec: number) => void (ttlSec = sec),
    conversation: (id: string) => state.conversations.get(id),
    conversationsOf: (customer: string) => [...state.conversations.values()].filter((c) => c.customer === customer),
    archive: (id: string) => void (state.conversations.get(id)!.archived = true),
    close: (id: string) => void (state.conversations.get(id)!.status = "closed"),
    remove: (id: string) => void state.deleted.add(id),
  };
}
