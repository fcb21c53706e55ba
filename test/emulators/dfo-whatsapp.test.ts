import { describe, expect, it } from "vitest";
import { createDfoEmulator } from "../../emulators/dfo/app";

/**
 * The DFO emulator carrying WhatsApp (contract §8, §9): a WhatsApp channel is just another channel,
 * its threads are named by the customer's whatsapp:+E.164 address, the customer's profile name is
 * kept, a `seen` status comes after `delivered`, and agents reply in WhatsApp threads.
 */
const ORIGIN = "https://dfo.test";
const PHONE = "+14155550100";
const WA = `whatsapp:${PHONE}`;
const WA_CHANNEL = "chat_wa";
const MESSAGES = `/dfo/3.0/channels/${WA_CHANNEL}/messages`;

function emulator() {
  const seen: { path: string; body: Record<string, any> }[] = [];
  let acks = 0;
  const emu = createDfoEmulator({
    accessKeyId: "key-id", accessKeySecret: "key-secret", clientId: "app-id", clientSecret: "app-secret",
    origin: ORIGIN, bridgeUrl: "https://bridge.example", byocClientId: "byoc-id", byocClientSecret: "byoc-secret",
    // A bridge that takes every call (no OAuth dance here: dfo-emulator.test.ts covers it).
    fetch: async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      const body = (await req.json()) as Record<string, any>;
      seen.push({ path: new URL(req.url).pathname, body });
      if (req.url.endsWith("/token")) return Response.json({ access_token: "t", token_type: "Bearer", expires_in: 3600 });
      acks += 1;
      return Response.json({ message: { idOnExternalPlatform: `b-${acks}`, createdAtWithMilliseconds: new Date().toISOString() }, thread: body.thread });
    },
  });
  let token: string | undefined;
  async function call(method: string, path: string, body?: unknown) {
    token ??= (
      (await (
        await emu.app.fetch(
          new Request(`${ORIGIN}/auth/token`, {
            method: "POST",
            headers: { authorization: `Basic ${btoa("app-id:app-secret")}`, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ grant_type: "password", username: "key-id", password: "key-secret" }).toString(),
          }),
        )
      ).json()) as { access_token: string }
    ).access_token;
    const res = await emu.app.fetch(
      new Request(`${ORIGIN}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  }
  const emuGet = async (path: string) => (await emu.app.fetch(new Request(`${ORIGIN}/_emu/${path}`))).json() as Promise<any>;
  return { emu, call, emuGet, seen };
}

const post = (id: string, over: Record<string, unknown> = {}) => ({
  idOnExternalPlatform: id,
  direction: "inbound",
  createdAtWithMilliseconds: "2025-01-01T00:00:00.123Z",
  thread: { idOnExternalPlatform: WA, threadName: "WhatsApp ***0100" },
  messageContent: { type: "TEXT", payload: { text: "hola" } },
  authorEndUserIdentity: { idOnExternalPlatform: WA, firstName: "Ana" },
  ...over,
});

describe("DFO emulator: WhatsApp threads", () => {
  it("takes a post in a WhatsApp thread, keeps the customer's first name, and keeps it apart from their SMS thread", async () => {
    const { call, emu, emuGet } = emulator();
    const res = await call("POST", MESSAGES, post("SM1"));
    expect(res.status).toBe(200);
    expect(res.json.consumerContact).toMatchObject({ status: "open", channelId: WA_CHANNEL, threadIdOnExternalPlatform: WA });
    const sms = await call("POST", "/dfo/3.0/channels/sms_main/messages", post("SM2", {
      thread: { idOnExternalPlatform: PHONE, threadName: "SMS ***0100" },
      authorEndUserIdentity: { idOnExternalPlatform: PHONE, firstName: PHONE },
    }));
    expect(sms.status).toBe(200);
    expect(sms.json.consumerContact.id).not.toBe(res.json.consumerContact.id);

    const threads = await emuGet("threads");
    expect(threads).toHaveLength(2);
    const wa = threads.find((t: { threadId: string }) => t.threadId === WA);
    expect(wa).toMatchObject({ channelId: WA_CHANNEL, threadName: "WhatsApp ***0100", endUser: { idOnExternalPlatform: WA, firstName: "Ana" } });
    expect(wa.messages).toMatchObject([{ idOnExternalPlatform: "SM1", text: "hola", authorEndUserIdentity: { idOnExternalPlatform: WA, firstName: "Ana" } }]);
    expect(emu.state.threads.get(`sms_main\n${PHONE}`)!.endUser).toEqual({ idOnExternalPlatform: PHONE, firstName: PHONE });
  });

  it("keeps the latest inbound name; an outbound post (an alert) does not replace it", async () => {
    const { call, emu } = emulator();
    expect((await call("POST", MESSAGES, post("SM1"))).status).toBe(200);
    expect((await call("POST", MESSAGES, post("SM2", { authorEndUserIdentity: { idOnExternalPlatform: WA, firstName: "Ana María" } }))).status).toBe(200);
    expect((await call("POST", MESSAGES, post("b-1", { direction: "outbound", authorEndUserIdentity: { idOnExternalPlatform: WA, firstName: WA } }))).status).toBe(200);
    expect(emu.state.threads.get(`${WA_CHANNEL}\n${WA}`)!.endUser?.firstName).toBe("Ana María");
    // An alert that opens a thread names the customer until they write.
    expect((await call("POST", MESSAGES, post("b-2", { direction: "outbound", thread: { idOnExternalPlatform: "whatsapp:+14155550111" }, authorEndUserIdentity: { idOnExternalPlatform: "whatsapp:+14155550111" } }))).status).toBe(200);
    expect(emu.state.threads.get(`${WA_CHANNEL}\nwhatsapp:+14155550111`)!.endUser).toEqual({ idOnExternalPlatform: "whatsapp:+14155550111" });
  });

  it.each([
    ["a WhatsApp thread id without the plus", { thread: { idOnExternalPlatform: "whatsapp:14155550100" }, authorEndUserIdentity: { idOnExternalPlatform: "whatsapp:14155550100" } }, "thread.idOnExternalPlatform"],
    ["an SMS author in a WhatsApp thread", { authorEndUserIdentity: { idOnExternalPlatform: PHONE, firstName: "Ana" } }, "authorEndUserIdentity.idOnExternalPlatform"],
    ["a WhatsApp author in an SMS thread", { thread: { idOnExternalPlatform: PHONE } }, "authorEndUserIdentity.idOnExternalPlatform"],
    ["a first name that is not text", { authorEndUserIdentity: { idOnExternalPlatform: WA, firstName: 7 } }, "authorEndUserIdentity.firstName"],
  ])("refuses %s: 400 naming the field, nothing stored", async (_name, over, field) => {
    const { call, emu } = emulator();
    const res = await call("POST", MESSAGES, post("SM1", over));
    expect(res.status).toBe(400);
    expect(res.json.errors.map((e: { field?: string }) => e.field)).toContain(field);
    expect(emu.state.threads.size).toBe(0);
  });
});

describe("DFO emulator: seen comes after delivered", () => {
  async function statuses(list: string[]) {
    const { call, emu, emuGet } = emulator();
    expect((await call("POST", MESSAGES, post("b-1", { direction: "outbound" }))).status).toBe(200);
    for (const [i, status] of list.entries()) {
      const body = { status, updatedAt: `2025-01-01T00:00:0${i + 1}.000Z`, ...(status === "failed" ? { reason: "63016" } : {}) };
      expect(await call("PUT", `${MESSAGES}/b-1/status`, body)).toEqual({ status: 200, json: {} });
    }
    const recorded = (await emuGet("statuses"))["b-1"] as { status: string; regression?: string }[];
    return { marks: recorded.map((r) => r.regression ?? null), count: (await emuGet("stats")).statusRegressions as number, emu };
  }

  it("takes delivered then seen (and a repeated seen) without a regression", async () => {
    const result = await statuses(["delivered", "seen", "seen"]);
    expect(result.marks).toEqual([null, null, null]);
    expect(result.count).toBe(0);
    expect(result.emu.stats().statusRegressions).toBe(0);
  });

  it("keeps SMS sequences as they were: delivered, failed, delivered then failed", async () => {
    for (const seq of [["delivered"], ["failed"], ["delivered", "failed"]]) {
      const result = await statuses(seq);
      expect(result.marks).toEqual(seq.map(() => null));
      expect(result.count).toBe(0);
    }
  });

  it.each([
    ["seen before delivered", ["seen", "delivered"], ["seen before delivered", "delivered after seen"], 2],
    ["delivered after seen", ["delivered", "seen", "delivered"], [null, null, "delivered after seen"], 1],
    ["seen after failed", ["failed", "seen"], [null, "seen after failed"], 1],
    ["seen after delivered then failed", ["delivered", "failed", "seen"], [null, null, "seen after failed"], 1],
    ["failed after seen", ["delivered", "seen", "failed"], [null, null, "failed after seen"], 1],
  ])("marks and counts %s (the update is still taken)", async (_name, list, marks, count) => {
    const result = await statuses(list);
    expect(result.marks).toEqual(marks);
    expect(result.count).toBe(count);
  });
});

describe("DFO emulator: an agent replies in a WhatsApp thread", () => {
  it("calls the bridge with the whatsapp: thread and recipient, and records the reply in the thread", async () => {
    const { call, emu, seen } = emulator();
    await call("POST", MESSAGES, post("SM1"));
    const result = await emu.agentReply({ channelId: WA_CHANNEL, threadId: WA, text: "Hola Ana" });
    expect(result).toMatchObject({ status: 200, answer: { message: { idOnExternalPlatform: "b-1" } } });
    const callback = seen.filter((s) => s.path.endsWith("/outbound")).at(-1)!;
    expect(callback.path).toBe(`/cxone/dfo/2.0/channel/${WA_CHANNEL}/outbound`);
    expect(callback.body).toMatchObject({
      channel: { id: WA_CHANNEL },
      thread: { idOnExternalPlatform: WA },
      endUserRecipients: [{ idOnExternalPlatform: WA }],
      messageContent: { type: "TEXT", payload: { text: "Hola Ana" } },
    });
    const thread = emu.state.threads.get(`${WA_CHANNEL}\n${WA}`)!;
    expect(thread.messages.map((m) => [m.direction, m.idOnExternalPlatform])).toEqual([["inbound", "SM1"], ["outbound", "b-1"]]);
    expect(thread.endUser?.firstName).toBe("Ana");
    // Its receipts: delivered then seen.
    expect((await call("PUT", `${MESSAGES}/b-1/status`, { status: "delivered", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(200);
    expect((await call("PUT", `${MESSAGES}/b-1/status`, { status: "seen", updatedAt: "2025-01-01T00:00:02Z" })).status).toBe(200);
    expect(emu.stats().statusRegressions).toBe(0);
  });

  it("the 1.0 form posts to the WhatsApp thread's path", async () => {
    const { emu, seen } = emulator();
    expect((await emu.agentReply({ channelId: WA_CHANNEL, threadId: WA, text: "hi", form: "1.0", recipientsKey: "recipients" })).status).toBe(200);
    const callback = seen.at(-1)!;
    expect(callback.path).toBe("/cxone/dfo/1.0/posts/whatsapp%3A%2B14155550100/messages");
    expect(callback.body).toMatchObject({ thread: { idOnExternalPlatform: WA }, recipients: [{ idOnExternalPlatform: WA }] });
  });
});
