/**
 * The baseline the bridge's inbound path is measured against: checks the signature exactly as the
 * bridge does (the same module), then forwards the text to CXone and answers when CXone has it.
 * No Durable Object, no D1, no queue, no retries: what "just a proxy" would cost. Conversation
 * ids and the token are remembered in the isolate's memory only (lost on restart, never shared).
 */
import { checkSignature, parseForm } from "../../src/adapters/twilio/signature";

interface BaselineEnv {
  PUBLIC_BASE_URL: string;
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  CXONE_API_BASE: string;
  CXONE_TOKEN_URL: string;
  CXONE_CLIENT_ID: string;
  CXONE_CLIENT_SECRET: string;
}

let token: { value: string; expiresAt: number } | undefined;
const conversations = new Map<string, Promise<string>>();

async function bearer(env: BaselineEnv): Promise<string> {
  if (token && token.expiresAt > Date.now()) return token.value;
  const res = await fetch(env.CXONE_TOKEN_URL, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${env.CXONE_CLIENT_ID}:${env.CXONE_CLIENT_SECRET}`)}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  if (!res.ok) throw new Error(`token: ${res.status}`);
  const body = (await res.json()) as { access_token: string; expires_in: number };
  token = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 900 };
  return token.value;
}

async function cxone(env: BaselineEnv, path: string, body: unknown, key: string): Promise<{ id: string }> {
  const res = await fetch(`${env.CXONE_API_BASE}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await bearer(env)}`, "content-type": "application/json", "x-idempotency-key": key },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as { id: string };
}

function conversationOf(env: BaselineEnv, customer: string, business: string): Promise<string> {
  let id = conversations.get(customer);
  if (!id) {
    id = cxone(
      env,
      "/api/v2/conversations",
      {
        channel_type: "sms",
        initiated_by: "customer",
        direction: "inbound",
        participants: [{ role: "customer", address: customer, address_type: "phone" }],
        routing: { strategy: "agent" },
        status: "active",
        properties: { business_number: business },
      },
      `baseline:${customer}`,
    ).then((c) => c.id);
    id.catch(() => conversations.delete(customer));
    conversations.set(customer, id);
  }
  return id;
}

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/healthz") return Response.json({ ok: true });
    if (request.method !== "POST" || url.pathname !== "/twilio/inbound") return new Response("not found", { status: 404 });
    const raw = await request.text();
    const params = parseForm(raw);
    const check = await checkSignature([env.TWILIO_AUTH_TOKEN], request.headers.get("x-twilio-signature"), `${env.PUBLIC_BASE_URL}${url.pathname}${url.search}`, params);
    const field = (name: string) => params.get(name)?.[0];
    if (!check.valid || field("AccountSid") !== env.TWILIO_ACCOUNT_SID) return new Response("forbidden", { status: 403 });
    const sid = field("MessageSid");
    const from = field("From");
    const to = field("To");
    if (!sid || !from || !to) return new Response("bad request", { status: 400 });
    try {
      const conversationId = await conversationOf(env, from, to);
      await cxone(
        env,
        `/api/v2/conversations/${conversationId}/messages`,
        { direction: "inbound", type: "text", content: { text: field("Body") ?? "" }, metadata: { twilio_message_sid: sid, from, to, segments: 1, received_at: new Date().toISOString() } },
        sid,
      );
    } catch {
      // No queue to fall back on: Twilio has to retry.
      return new Response("upstream failed", { status: 502 });
    }
    return new Response(TWIML, { headers: { "content-type": "text/xml; charset=utf-8" } });
  },
};
