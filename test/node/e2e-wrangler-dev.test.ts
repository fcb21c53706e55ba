import { createHmac } from "node:crypto";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmuConversation as Conversation } from "../../emulators/cxone/state";
import type { EmulatedMessage as Sent } from "../../emulators/twilio/messages";
import { E2E, json, startE2E, until } from "./stack";

/**
 * SPEC §3–4 as an outside client meets them: `wrangler dev` on real HTTP, Twilio's requests
 * signed by Twilio's own `twilio` package, the emulators standing in for Twilio and CXone.
 */
let stack: Awaited<ReturnType<typeof startE2E>>;
beforeAll(async () => {
  stack = await startE2E(18_787);
}, 120_000);
afterAll(async () => {
  await stack?.cleanup();
});

let n = 0;
const phone = () => `+1628555${String(1000 + ++n)}`;
const sid = () => `SM${crypto.randomUUID().replace(/-/g, "")}`;

function inboundFields(over: Record<string, string> = {}): Record<string, string> {
  return { MessageSid: sid(), AccountSid: E2E.TWILIO_ACCOUNT_SID, From: phone(), To: E2E.TWILIO_FROM_NUMBER, Body: "hello", NumMedia: "0", ...over };
}

/** POSTs a webhook over real HTTP, signed by the twilio package for the bridge's public URL. */
async function postInbound(fields: Record<string, string>, opts: { token?: string; contentType?: string; body?: string } = {}) {
  const url = `${stack.bridgeUrl}/twilio/inbound`;
  const signature = twilio.getExpectedTwilioSignature(opts.token ?? E2E.TWILIO_AUTH_TOKEN, url, fields);
  return fetch(url, {
    method: "POST",
    headers: { "content-type": opts.contentType ?? "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: opts.body ?? new URLSearchParams(fields).toString(),
  });
}

const conversationsOf = async (customer: string) => (await json<Conversation[]>(`${stack.cxoneUrl}/_emu/conversations`)).filter((c) => c.customer === customer);
const sentTo = async (to: string) => (await json<Sent[]>(`${stack.twilioUrl}/_emu/messages`)).filter((m) => m.to === to);
const faults = (rules: unknown[]) =>
  fetch(`${stack.cxoneUrl}/_emu/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ rules }) }).then((r) => r.text());

describe("inbound under wrangler dev", () => {
  it("answers a signed webhook with empty TwiML and threads the text into one conversation", async () => {
    const fields = inboundFields({ Body: "Olá — is my order 👋 on its way?" });
    const res = await postInbound(fields);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    const [conv] = await until("the conversation", async () => {
      const found = await conversationsOf(fields.From!);
      return found[0]?.messages.length ? found : undefined;
    });
    expect(conv!.messages.map((m) => m.text)).toEqual([fields.Body]);
    expect(conv!.messages[0]!.metadata).toMatchObject({ twilio_message_sid: fields.MessageSid, from: fields.From, to: fields.To });
  });

  it("turns ten simultaneous first texts into one conversation with ten messages, and a replay into nothing", async () => {
    const customer = phone();
    const all = Array.from({ length: 10 }, (_, i) => inboundFields({ From: customer, Body: `burst ${i}` }));
    const answers = await Promise.all(all.map((f) => postInbound(f)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect((await postInbound(all[0]!)).status).toBe(200);
    const convs = await until("ten messages", async () => {
      const found = await conversationsOf(customer);
      return found.length > 0 && found.reduce((s, c) => s + c.messages.length, 0) >= 10 ? found : undefined;
    });
    expect(convs).toHaveLength(1);
    expect(convs[0]!.messages).toHaveLength(10);
  });

  it.each([
    ["a tampered body", (f: Record<string, string>) => postInbound(f, { body: new URLSearchParams({ ...f, Body: "tampered" }).toString() }), 403],
    ["the wrong auth token", (f: Record<string, string>) => postInbound(f, { token: "wrong" }), 403],
    ["another account", (f: Record<string, string>) => postInbound({ ...f, AccountSid: `AC${"9".repeat(32)}` }), 403],
    ["no From", (f: Record<string, string>) => postInbound(Object.fromEntries(Object.entries(f).filter(([k]) => k !== "From"))), 400],
    ["a non-E.164 From", (f: Record<string, string>) => postInbound({ ...f, From: "4155550100" }), 400],
    ["a JSON content type", (f: Record<string, string>) => postInbound(f, { contentType: "text/plain" }), 415],
    ["a huge body", (f: Record<string, string>) => postInbound({ ...f, Body: "x".repeat(300_000) }), 413],
  ])("refuses %s with a JSON %i and stores nothing", async (_name, send, status) => {
    const fields = inboundFields();
    const res = await send(fields);
    expect(res.status).toBe(status);
    expect(await res.json()).toHaveProperty("error");
    expect(await conversationsOf(fields.From!)).toEqual([]);
  });

  it("answers at once while CXone is down and lands the text when it is back, by the alarm alone", async () => {
    await faults([{ method: "POST", path: "/messages$", kind: "status", status: 503, times: 2 }]);
    const fields = inboundFields({ Body: "while CXone was down" });
    const started = Date.now();
    const res = await postInbound(fields);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    const [conv] = await until("the delayed delivery", async () => {
      const found = await conversationsOf(fields.From!);
      return found[0]?.messages.length ? found : undefined;
    });
    expect(conv!.messages.map((m) => m.text)).toEqual(["while CXone was down"]);
  });

  it("keeps an accepted text through a restart of the Worker and delivers it afterwards", async () => {
    await faults([{ method: "POST", path: "/messages$", kind: "status", status: 503, times: 1_000 }]);
    const fields = inboundFields({ Body: "survives a restart" });
    expect((await postInbound(fields)).status).toBe(200);
    await stack.restartBridge();
    await fetch(`${stack.cxoneUrl}/_emu/faults`, { method: "DELETE" });
    const [conv] = await until("delivery after the restart", async () => {
      const found = await conversationsOf(fields.From!);
      return found[0]?.messages.length ? found : undefined;
    }, 30_000);
    expect(conv!.messages.map((m) => m.text)).toEqual(["survives a restart"]);
  }, 120_000);
});

describe("outbound under wrangler dev", () => {
  async function conversationFor(customer: string) {
    await postInbound(inboundFields({ From: customer }));
    return (await until("the conversation", async () => (await conversationsOf(customer))[0]))!;
  }

  it("accepts a push with a bearer token or an HMAC signature within 2 s and sends each once", async () => {
    const customer = phone();
    const conv = await conversationFor(customer);
    for (const auth of ["bearer", "hmac"] as const) {
      const { id } = await json<{ id: string }>(`${stack.cxoneUrl}/_emu/agent-reply`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ conversationId: conv.id, body: `reply via ${auth}` }),
      });
      const body = JSON.stringify({ id, conversationId: conv.id, to: customer, body: `reply via ${auth}`, direction: "OUTBOUND", channel: "SMS" });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth === "bearer") headers.authorization = `Bearer ${E2E.CXONE_WEBHOOK_SECRET}`;
      else headers["x-signature-256"] = `sha256=${createHmac("sha256", E2E.CXONE_WEBHOOK_SECRET).update(body).digest("hex")}`;
      const started = Date.now();
      const res = await fetch(`${stack.bridgeUrl}/cxone/outbound`, { method: "POST", headers, body });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "accepted", messageId: id });
      // The same push again: still one SMS.
      expect((await fetch(`${stack.bridgeUrl}/cxone/outbound`, { method: "POST", headers, body })).status).toBe(200);
    }
    const sent = await until("both SMS", async () => {
      const found = await sentTo(customer);
      return found.length >= 2 ? found : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await sentTo(customer)).map((m) => m.body).sort()).toEqual(["reply via bearer", "reply via hmac"]);
    expect(sent.every((m) => m.from === E2E.TWILIO_FROM_NUMBER)).toBe(true);
  });

  it("refuses an unauthenticated push with 401 and an invalid one with 400", async () => {
    const item = { id: "x-1", conversationId: "c-1", to: "+14155550100", body: "hi" };
    expect((await fetch(`${stack.bridgeUrl}/cxone/outbound`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(item) })).status).toBe(401);
    const bad = await fetch(`${stack.bridgeUrl}/cxone/outbound`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${E2E.CXONE_WEBHOOK_SECRET}` },
      body: JSON.stringify({ ...item, to: "0415550100" }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "invalid_request", message: expect.stringContaining("to") });
  });

  it("finds an unpushed reply through the Cron poller and sends it once, whatever the number of ticks", async () => {
    const customer = phone();
    const conv = await conversationFor(customer);
    await json(`${stack.cxoneUrl}/_emu/agent-reply`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversationId: conv.id, body: "polled reply" }),
    });
    expect(await stack.tick()).toBe(200);
    expect(await stack.tick()).toBe(200);
    await until("the polled SMS", async () => (await sentTo(customer)).length > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect((await sentTo(customer)).map((m) => m.body)).toEqual(["polled reply"]);
  });

  it("is healthy on /healthz when fully configured", async () => {
    const health = await json<{ ok: boolean }>(`${stack.bridgeUrl}/healthz`);
    expect(health.ok).toBe(true);
  });
});
