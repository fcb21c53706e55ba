import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { messageSid, numbers } from "./twilio-side";
import { conversationAfter, DFO, E2E, json, MODES, post, sleep, until, useE2E } from "./stack";

/**
 * contract §3–5 and §8 as an outside client meets them, in both CXone dialects: `wrangler dev` on
 * real HTTP, Twilio's requests signed by Twilio's own `twilio` package, the emulators standing in
 * for Twilio and CXone. The cases are written once against the CXone view (cxone-view.ts); what
 * only one dialect has is a case of that mode alone, at the end.
 */
const phone = numbers("+1628555");
const admin = { authorization: `Bearer ${E2E.ADMIN_TOKEN}` };
/** A 1×1 PNG: a customer's picture. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

describe.each(MODES)("%s under wrangler dev", (mode) => {
  const e = useE2E(mode, 0);
  const delivered = async (customer: string) =>
    until("the text in CXone", async () => {
      const found = await e.cx.conversationsOf(customer);
      return found[0]?.messages.length ? found : undefined;
    }, 30_000);

  describe("inbound", () => {
    it("answers a signed webhook with empty TwiML and threads the text into one conversation", async () => {
      const fields = e.tw.fields({ From: phone(), Body: "Olá — is my order 👋 on its way?" });
      const res = await e.tw.inbound(fields);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
      expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
      const [conv] = await delivered(fields.From!);
      expect(conv!.messages.map((m) => [m.direction, m.text, m.messageSid])).toEqual([["inbound", fields.Body, fields.MessageSid]]);
      expect(conv!.proactive).toBe(false);
    });

    it("takes an MMS: CXone can get the customer's picture along with the text", async () => {
      const sid = messageSid().replace(/^SM/, "MM");
      const { url } = await e.tw.media(sid, "image/png", PNG);
      const fields = e.tw.fields({ MessageSid: sid, From: phone(), Body: "Here is the damage", NumMedia: "1", MediaUrl0: url, MediaContentType0: "image/png" });
      expect((await e.tw.inbound(fields)).status).toBe(200);
      const [conv] = await delivered(fields.From!);
      const [message] = conv!.messages;
      expect(message!.text).toBe("Here is the damage");
      expect(message!.attachments).toHaveLength(1);
      const attachment = message!.attachments[0]!;
      // Open-messaging hands CXone Twilio's MediaUrl, fetched with the account's credentials; DFO
      // gets the bytes uploaded as a temporary attachment that it serves itself (contract §8).
      if (mode === "open-messaging") expect(attachment).toEqual({ url, contentType: "image/png" });
      else expect(attachment).toEqual({ url: expect.stringMatching(`^${e.stack.cxoneUrl}/`), name: "media-1.png" });
      const res = await fetch(attachment.url, mode === "open-messaging" ? { headers: { authorization: e.tw.basicAuth } } : {});
      expect([res.status, res.headers.get("content-type")]).toEqual([200, "image/png"]);
      expect(Buffer.from(await res.arrayBuffer()).toString("base64")).toBe(PNG);
    });

    it("turns ten simultaneous first texts into one conversation with ten messages, and a replay into nothing", async () => {
      const customer = phone();
      const all = Array.from({ length: 10 }, (_, i) => e.tw.fields({ From: customer, Body: `burst ${i}` }));
      const answers = await Promise.all(all.map((f) => e.tw.inbound(f)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      expect((await e.tw.inbound(all[0]!)).status).toBe(200);
      const convs = await until("ten messages", async () => {
        const found = await e.cx.conversationsOf(customer);
        return found.reduce((s, c) => s + c.messages.length, 0) >= 10 ? found : undefined;
      });
      await sleep(500);
      expect(await e.cx.conversationsOf(customer)).toEqual(convs);
      expect(convs).toHaveLength(1);
      expect(convs[0]!.ids).toHaveLength(1);
      expect(convs[0]!.messages.map((m) => m.messageSid).sort()).toEqual(all.map((f) => f.MessageSid).sort());
    });

    it.each([
      ["a tampered body", 403, (f: Record<string, string>) => e.tw.inbound(f, { body: new URLSearchParams({ ...f, Body: "tampered" }).toString() })],
      ["the wrong auth token", 403, (f: Record<string, string>) => e.tw.inbound(f, { token: "wrong" })],
      ["another account", 403, (f: Record<string, string>) => e.tw.inbound({ ...f, AccountSid: `AC${"9".repeat(32)}` })],
      ["no From", 400, (f: Record<string, string>) => e.tw.inbound(Object.fromEntries(Object.entries(f).filter(([k]) => k !== "From")))],
      ["a non-E.164 From", 400, (f: Record<string, string>) => e.tw.inbound({ ...f, From: "4155550100" })],
      ["a JSON content type", 415, (f: Record<string, string>) => e.tw.inbound(f, { contentType: "text/plain" })],
      ["a huge body", 413, (f: Record<string, string>) => e.tw.inbound({ ...f, Body: "x".repeat(300_000) })],
    ])("refuses %s with a JSON %i and stores nothing", async (_name, status, send) => {
      const fields = e.tw.fields({ From: phone() });
      const res = await send(fields);
      expect(res.status).toBe(status);
      expect(await res.json()).toHaveProperty("error");
      expect(await e.cx.conversationsOf(fields.From!)).toEqual([]);
    });

    it("answers at once while CXone is down and lands the text when it is back, by the alarm alone", async () => {
      await e.cx.faults([{ method: "POST", path: e.cx.paths.inbound, kind: "status", status: 503, times: 2 }]);
      const fields = e.tw.fields({ From: phone(), Body: "while CXone was down" });
      const started = Date.now();
      expect((await e.tw.inbound(fields)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      const [conv] = await delivered(fields.From!);
      expect(conv!.messages.map((m) => m.text)).toEqual(["while CXone was down"]);
    });

    it("keeps an accepted text through a restart of the Worker and delivers it afterwards", async () => {
      const before = await e.cx.faultsFired();
      await e.cx.faults([{ method: "POST", path: e.cx.paths.inbound, kind: "status", status: 503, times: 1_000 }]);
      const fields = e.tw.fields({ From: phone(), Body: "survives a restart" });
      expect((await e.tw.inbound(fields)).status).toBe(200);
      // Killed between attempts, as a deploy mostly finds it: killed in the middle of one, the
      // object's 30 s fallback wake-up (sqlite-object.ts) would deliver it, and this would wait it out.
      await until("the bridge's first attempt", async () => (await e.cx.faultsFired()) > before);
      await e.stack.restartBridge();
      await e.cx.clearFaults();
      const [conv] = await delivered(fields.From!);
      expect(conv!.messages.map((m) => m.text)).toEqual(["survives a restart"]);
    }, 120_000);
  });

  describe("outbound", () => {
    it("answers CXone within 2 s, sends the reply once from the business number, and reports it delivered", async () => {
      const customer = phone();
      const conv = await conversationAfter(e, customer, "Where is my order?");
      const id = `e2e-reply-${crypto.randomUUID()}`;
      const started = Date.now();
      const first = await e.cx.agentReply(conv, "It ships today", { id });
      expect(Date.now() - started).toBeLessThan(2_000);
      // CXone handing over the same reply again (its retry): the same answer, no second SMS.
      const again = await e.cx.agentReply(conv, "It ships today", { id });
      expect([first.status, again.status]).toEqual([200, 200]);
      expect(again.id).toBe(first.id);
      const receipts = await until("the DELIVERED receipt", async () => {
        const got = await e.cx.receiptsOf(first.id!);
        return got.some((r) => r.status === e.cx.wire(["DELIVERED"])[0]) ? got : undefined;
      });
      const sms = await e.tw.sentTo(customer);
      expect(sms.map((m) => [m.body, m.from])).toEqual([["It ships today", E2E.TWILIO_FROM_NUMBER]]);
      expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "DELIVERED"]));
      if (mode === "open-messaging") expect(receipts.map((r) => r.providerMessageId)).toEqual([sms[0]!.sid, sms[0]!.sid]);
    });

    it("reports a reply the carrier could not deliver as a failure with Twilio's error code", async () => {
      const customer = phone();
      const conv = await conversationAfter(e, customer, "Text me the code");
      await e.tw.outcome(customer, "undelivered", 30003);
      const { id } = await e.cx.agentReply(conv, "Your code is 4711");
      const receipts = await until("the final receipt", async () => {
        const got = await e.cx.receiptsOf(id!);
        return got.some((r) => r.status !== "SENT") ? got : undefined;
      });
      expect(receipts.map((r) => r.status)).toEqual(e.cx.wire(["SENT", "UNDELIVERABLE"]));
      expect(receipts.at(-1)!.errorCode).toBe("30003");
    });

    it("suppresses a customer who texts STOP: the agent sees it, replies fail as OPTED_OUT with no SMS, START lifts it", async () => {
      const customer = phone();
      const conv = await conversationAfter(e, customer, "Hi");
      expect(await e.tw.text(customer, "  Stop! ")).toBe(200);
      await until("the STOP in the same conversation", async () => (await e.cx.conversationsOf(customer)).find((c) => c.messages.some((m) => m.text === "  Stop! ")));
      const optOuts = `${e.stack.bridgeUrl}/admin/opt-outs/${encodeURIComponent(customer)}`;
      expect(await json<{ suppressed: boolean }>(optOuts, { headers: admin })).toMatchObject({ suppressed: true });
      expect(await e.cx.conversationsOf(customer)).toHaveLength(1);

      const refused = await e.cx.agentReply(conv, "Sorry to see you go");
      expect(refused.status).toBe(200);
      const receipts = await until("the OPTED_OUT receipt", async () => {
        const got = await e.cx.receiptsOf(refused.id!);
        if (got.length > 0) return got;
        // DFO learns the reply's id only from the bridge's answer, so the report sent right after
        // it may find the id unknown and wait for the Cron's sweep (contract §8), played here.
        if (mode === "dfo") await e.stack.tick();
      });
      expect(receipts).toEqual([{ status: e.cx.wire(["FAILED"])[0], errorCode: "OPTED_OUT" }]);

      expect(await e.tw.text(customer, "START")).toBe(200);
      await until("the suppression lifted", async () => !(await json<{ suppressed: boolean }>(optOuts, { headers: admin })).suppressed);
      await e.cx.agentReply(conv, "Welcome back");
      await until("the reply after START", async () => (await e.tw.sentTo(customer)).length > 0);
      await sleep(300);
      expect((await e.tw.sentTo(customer)).map((m) => m.body)).toEqual(["Welcome back"]);
    });

    it("is healthy on /healthz when fully configured, in its mode", async () => {
      const health = await json<{ ok: boolean; mode: string; dfoOrigin?: string }>(`${e.stack.bridgeUrl}/healthz`);
      expect(health).toMatchObject({ ok: true, mode });
      if (mode === "dfo") expect(health.dfoOrigin).toBe(e.stack.cxoneUrl);
    });
  });

  // Mode-specific: pushes to /cxone/outbound and the Cron poller exist only in open-messaging; in
  // DFO CXone calls the reply callback with a token from the bridge instead, and /cxone/outbound is 404.
  if (mode === "open-messaging") {
    describe("pushes and the poller (open-messaging only)", () => {
      it("accepts a push with a bearer token or an HMAC signature within 2 s and sends each once", async () => {
        const customer = phone();
        const conv = await conversationAfter(e, customer, "hello");
        for (const auth of ["bearer", "hmac"] as const) {
          const { id } = await json<{ id: string }>(`${e.stack.cxoneUrl}/_emu/agent-reply`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ conversationId: conv.ids[0], body: `reply via ${auth}` }),
          });
          const body = JSON.stringify({ id, conversationId: conv.ids[0], to: customer, body: `reply via ${auth}`, direction: "OUTBOUND", channel: "SMS" });
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (auth === "bearer") headers.authorization = `Bearer ${E2E.CXONE_WEBHOOK_SECRET}`;
          else headers["x-signature-256"] = `sha256=${createHmac("sha256", E2E.CXONE_WEBHOOK_SECRET).update(body).digest("hex")}`;
          const started = Date.now();
          const res = await fetch(`${e.stack.bridgeUrl}/cxone/outbound`, { method: "POST", headers, body });
          expect(Date.now() - started).toBeLessThan(2_000);
          expect(res.status).toBe(200);
          expect(await res.json()).toEqual({ status: "accepted", messageId: id });
          expect((await fetch(`${e.stack.bridgeUrl}/cxone/outbound`, { method: "POST", headers, body })).status).toBe(200);
        }
        await until("both SMS", async () => (await e.tw.sentTo(customer)).length >= 2);
        await sleep(500);
        expect((await e.tw.sentTo(customer)).map((m) => m.body).sort()).toEqual(["reply via bearer", "reply via hmac"]);
      });

      it("refuses an unauthenticated push with 401 and an invalid one with 400", async () => {
        const item = { id: "x-1", conversationId: "c-1", to: "+14155550100", body: "hi" };
        expect((await post(`${e.stack.bridgeUrl}/cxone/outbound`, item)).status).toBe(401);
        const bad = await post(`${e.stack.bridgeUrl}/cxone/outbound`, { ...item, to: "0415550100" }, { authorization: `Bearer ${E2E.CXONE_WEBHOOK_SECRET}` });
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ error: "invalid_request", message: expect.stringContaining("to") });
      });

      it("finds an unpushed reply through the Cron poller and sends it once, whatever the number of ticks", async () => {
        const customer = phone();
        const conv = await conversationAfter(e, customer, "hello");
        await post(`${e.stack.cxoneUrl}/_emu/agent-reply`, { conversationId: conv.ids[0], body: "polled reply" });
        expect(await e.stack.tick()).toBe(200);
        expect(await e.stack.tick()).toBe(200);
        await until("the polled SMS", async () => (await e.tw.sentTo(customer)).length > 0);
        await sleep(500);
        expect((await e.tw.sentTo(customer)).map((m) => m.body)).toEqual(["polled reply"]);
      });
    });
  } else {
    describe("the reply callback and its tokens (DFO only)", () => {
      const token = (body: Record<string, string>) => post(`${e.stack.bridgeUrl}/cxone/dfo/token`, { grant_type: "client_credentials", ...body });

      it("has no /cxone/outbound, and takes a reply only with a token of its own for valid credentials", async () => {
        const customer = phone();
        const push = await post(`${e.stack.bridgeUrl}/cxone/outbound`, { id: "x-1", conversationId: "c-1", to: customer, body: "hi" }, { authorization: `Bearer ${E2E.CXONE_WEBHOOK_SECRET}` });
        expect(push.status).toBe(404);
        const callback = `${e.stack.bridgeUrl}/cxone/dfo/2.0/channel/${DFO.CHANNEL}/outbound`;
        const reply = { thread: { idOnExternalPlatform: customer }, messageContent: { type: "TEXT", payload: { text: "hi" } } };
        expect((await post(callback, reply)).status).toBe(401);
        expect((await post(callback, reply, { authorization: `Bearer ${E2E.CXONE_WEBHOOK_SECRET}` })).status).toBe(401);
        const wrong = await token({ client_id: DFO.CXONE_BYOC_CLIENT_ID, client_secret: "wrong" });
        expect([wrong.status, await wrong.json()]).toEqual([401, expect.objectContaining({ error: "invalid_client" })]);
        const { access_token } = (await (await token({ client_id: DFO.CXONE_BYOC_CLIENT_ID, client_secret: DFO.CXONE_BYOC_CLIENT_SECRET })).json()) as { access_token: string };
        const bad = await post(callback, { ...reply, thread: {} }, { authorization: `Bearer ${access_token}` });
        expect([bad.status, await bad.json()]).toEqual([400, expect.objectContaining({ message: expect.stringContaining("thread") })]);
        await sleep(300);
        expect(await e.tw.sentTo(customer)).toEqual([]);
      });

      it("lets CXone reuse one token for every callback after its first 401", async () => {
        // Every reply of this suite went through the emulated CXone, which asks for a token only on a 401.
        const stats = await json<{ bridgeTokenRequests: number; unauthorizedCallbacks: number; callbacks: number }>(`${e.stack.cxoneUrl}/_emu/stats`);
        expect(stats.callbacks).toBeGreaterThan(4);
        expect([stats.bridgeTokenRequests, stats.unauthorizedCallbacks]).toEqual([1, 1]);
      });
    });
  }
});
