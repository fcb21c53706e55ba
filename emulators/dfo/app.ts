import { Hono } from "hono";
import { Faults, faultMiddleware } from "../faults";
import { agentSide, type CallbackResult } from "./agent";
import { TokenIssuer, identityRoutes } from "./auth";
import { controlRoutes, fileResponse } from "./control";
import { dfoError, parseBody } from "./http";
import { ContactStatus, MessageStatus, NewMessage, TemporaryAttachment, type AgentReplyInput, type SenderActionInput } from "./schemas";
import { DfoState, type DfoMessage, type StatusRecord, type StoredFile } from "./state";

export interface DfoEmulatorOptions {
  /** The bridge's CXone user access key (password grant). */
  accessKeyId: string;
  accessKeySecret: string;
  /** The registered CXone application, presented as HTTP Basic on token requests. */
  clientId: string;
  clientSecret: string;
  tenantId?: string;
  area?: string;
  domain?: string;
  /** The emulator's own public origin, e.g. "http://127.0.0.1:8789": attachment URLs and discovery endpoints. */
  origin: string;
  /** The bridge's base, e.g. "http://localhost:8787"; its BYOC routes are under `${bridgeUrl}/cxone/dfo`. */
  bridgeUrl: string;
  /** What CXone presents to the bridge's token endpoint (the BYOC form's Client ID and Secret). */
  byocClientId: string;
  byocClientSecret: string;
  /** Lifetime of issued access tokens (default 3600 s). */
  tokenTtlSec?: number;
  /** The channel ids DFO knows (default: any id shaped like "<box>_<id>"). */
  channels?: string[];
  /** Draws the injected faults (default Math.random); the soak seeds it to replay a run's faults. */
  random?: () => number;
  /** Used for the callbacks to the bridge (default globalThis.fetch). */
  fetch?: typeof fetch;
  now?: () => number;
}

export interface DfoStats {
  tokenRequests: number;
  bridgeTokenRequests: number;
  unauthorizedCallbacks: number;
  callbacksWithoutToken: number;
  callbacks: number;
  /** Message status updates that came out of order (seen before delivered, delivered after seen, seen after failed, …). */
  statusRegressions: number;
  calls: Record<string, number>;
  faults: Record<string, number>;
}

export interface DfoEmulator {
  app: Hono;
  state: DfoState;
  faults: Faults;
  /** An agent's reply, delivered to the bridge's outbound callback with CXone's side of the OAuth dance. */
  agentReply(input: AgentReplyInput): Promise<CallbackResult & { id: string; answerLost?: boolean }>;
  /** A typing indicator sent to the bridge; the HTTP status it finally answered. */
  senderAction(input: SenderActionInput): Promise<number>;
  /** Every access and refresh token issued so far stops working; the new epoch. */
  revokeTokens(): number;
  stats(): DfoStats;
  /** An uploaded attachment that has not expired. */
  file(id: string): StoredFile | undefined;
}

export const DEFAULT_TENANT_ID = "11ed0000-dfo0-emu0-0000-000000000001";
const DEFAULT_CHANNEL = /^[a-z]+_[A-Za-z0-9-]+$/;
// How long DFO keeps a temporary attachment is not published; an hour outlives any post that uses it.
const TEMPORARY_ATTACHMENT_MS = 60 * 60 * 1000;

const routeOf = (path: string) =>
  path.replace(/\/channels\/[^/]+/, "/channels/:channelId").replace(/\/messages\/[^/]+\/status$/, "/messages/:id/status").replace(/\/contacts\/[^/]+/, "/contacts/:contactId");

/**
 * A local CXone for Digital First Omnichannel 3.0 "Bring Your Own Channel" (contract §8): its token
 * endpoint (access-key password grant, HTTP Basic client), tenant discovery, channel messages
 * with threads and contacts, temporary attachments, message and contact status, and the agent's
 * side (agent.ts): replies and typing indicators called into the bridge with CXone's OAuth dance.
 */
export function createDfoEmulator(options: DfoEmulatorOptions): DfoEmulator {
  const state = new DfoState();
  const faults = new Faults(options.random);
  const now = options.now ?? Date.now;
  const origin = options.origin.replace(/\/+$/, "");
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const tokens = new TokenIssuer({ tenantId, clientId: options.clientId, ttlSec: options.tokenTtlSec ?? 3600, now });
  const agent = agentSide({
    state,
    bridgeUrl: options.bridgeUrl.replace(/\/+$/, ""),
    byocClientId: options.byocClientId,
    byocClientSecret: options.byocClientSecret,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now,
  });
  const channelKnown = (id: string) => (options.channels ? options.channels.includes(id) : DEFAULT_CHANNEL.test(id));
  const iso = () => new Date(now()).toISOString();

  // What each request stored, so that a fault that loses its answer can mark it: the bridge's
  // retry of that request is then told apart from a request sent twice.
  const recorded = new WeakMap<Request, DfoMessage | StatusRecord>();
  const faulty = faultMiddleware(faults, (c) => {
    const record = recorded.get(c.req.raw);
    if (record) record.answerLost = true;
  });
  const app = new Hono();
  app.use("/auth/token", faulty);
  app.use("/dfo/3.0/*", faulty);
  app.notFound((c) => dfoError(c, 404, { message: "not found" }));
  app.route("/", identityRoutes({ ...options, tenantId, domain: options.domain ?? "niceincontact.com", origin }, state, tokens));

  app.use("/dfo/3.0/*", async (c, next) => {
    if (!tokens.bearerValid(c.req.header("authorization"))) return dfoError(c, 401, { message: "invalid token" });
    state.count(`${c.req.method} ${routeOf(new URL(c.req.url).pathname)}`);
    await next();
  });

  app.post("/dfo/3.0/channels/:channelId/messages", async (c) => {
    const channelId = c.req.param("channelId");
    if (!channelKnown(channelId)) return dfoError(c, 404, { message: `channel ${channelId} not found` });
    const m = await parseBody(c, NewMessage);
    if (m instanceof Response) return m;
    if (state.message(channelId, m.idOnExternalPlatform)) {
      return dfoError(c, 409, { message: "message with this idOnExternalPlatform already exists", errorCode: "duplicate" });
    }
    const receivedAt = iso();
    const thread = state.thread(channelId, m.thread.idOnExternalPlatform, m.thread.threadName);
    if (m.direction === "inbound" || thread.endUser === undefined) thread.endUser = m.authorEndUserIdentity;
    const contact = state.contactFor(thread, receivedAt);
    const customFields = m.contact?.customFields?.map(({ ident, value }) => ({ ident, value }));
    const message: DfoMessage = {
      id: crypto.randomUUID(),
      idOnExternalPlatform: m.idOnExternalPlatform,
      direction: m.direction,
      text: m.messageContent.payload.text,
      attachments: (m.attachments ?? []).map(({ friendlyName, url }) => ({ friendlyName, url })),
      authorEndUserIdentity: m.authorEndUserIdentity,
      ...(customFields ? { customFields } : {}),
      createdAtWithMilliseconds: m.createdAtWithMilliseconds,
      receivedAt,
      contactId: contact.id,
    };
    state.add(thread, message);
    recorded.set(c.req.raw, message);
    return c.json({
      consumerContact: { id: contact.id, status: contact.status, channelId, threadId: thread.id, threadIdOnExternalPlatform: thread.threadId },
      message: {
        id: message.id,
        idOnExternalPlatform: m.idOnExternalPlatform,
        direction: m.direction,
        threadId: thread.id,
        threadIdOnExternalPlatform: thread.threadId,
        createdAtWithMilliseconds: m.createdAtWithMilliseconds,
      },
    });
  });

  app.post("/dfo/3.0/attachments/temporary", async (c) => {
    const input = await parseBody(c, TemporaryAttachment);
    if (input instanceof Response) return input;
    const id = crypto.randomUUID();
    const expireAt = now() + TEMPORARY_ATTACHMENT_MS;
    const bytes = Uint8Array.from(atob(input.content), (ch) => ch.charCodeAt(0));
    state.files.set(id, { bytes, mimeType: input.mimeType, expireAt });
    return c.json({ id, url: `${origin}/dfo/files/${id}`, expireAt: new Date(expireAt).toISOString() });
  });

  app.put("/dfo/3.0/channels/:channelId/messages/:messageId/status", async (c) => {
    const channelId = c.req.param("channelId");
    const messageId = c.req.param("messageId");
    if (!channelKnown(channelId) || !state.message(channelId, messageId)) {
      return dfoError(c, 404, { message: `message ${messageId} not found in channel ${channelId}` });
    }
    const input = await parseBody(c, MessageStatus);
    if (input instanceof Response) return input;
    const record: StatusRecord = {
      channelId,
      status: input.status,
      updatedAt: input.updatedAt,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      at: iso(),
    };
    // Taken either way, as DFO would; one out of order is marked and counted (stats.statusRegressions).
    state.recordStatus(messageId, record);
    recorded.set(c.req.raw, record);
    return c.json({});
  });

  app.put("/dfo/3.0/contacts/:contactId/status", async (c) => {
    const contact = state.contacts.get(c.req.param("contactId"));
    if (!contact) return dfoError(c, 404, { message: `contact ${c.req.param("contactId")} not found` });
    const input = await parseBody(c, ContactStatus);
    if (input instanceof Response) return input;
    contact.status = input.status;
    contact.history.push({ status: input.status, ...(input.updatedByUserId !== undefined ? { updatedByUserId: input.updatedByUserId } : {}), at: iso() });
    return c.json({});
  });

  const file = (id: string) => {
    const stored = state.files.get(id);
    return stored && stored.expireAt > now() ? stored : undefined;
  };
  app.get("/dfo/files/:id", (c) => fileResponse(file(c.req.param("id"))));

  const emulator: DfoEmulator = {
    app,
    state,
    faults,
    agentReply: agent.agentReply,
    senderAction: agent.senderAction,
    revokeTokens: () => tokens.revoke(),
    stats: () => ({
      tokenRequests: state.tokenRequests,
      bridgeTokenRequests: state.bridgeTokenRequests,
      unauthorizedCallbacks: state.unauthorizedCallbacks,
      callbacksWithoutToken: state.callbacksWithoutToken,
      callbacks: state.callbacks,
      statusRegressions: state.statusRegressions,
      calls: state.calls,
      faults: faults.fired,
    }),
    file,
  };
  app.route("/_emu", controlRoutes(emulator));
  return emulator;
}
