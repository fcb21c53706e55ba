import { describe, expect, it } from "vitest";
import { createDfoEmulator, DEFAULT_TENANT_ID, type DfoEmulatorOptions } from "../../emulators/dfo/app";

const ORIGIN = "https://dfo.test";
const BRIDGE = "https://bridge.example";
const OPTIONS = {
  accessKeyId: "key-id", accessKeySecret: "key=secret", clientId: "app-id", clientSecret: "app-secret",
  origin: ORIGIN, bridgeUrl: BRIDGE, byocClientId: "byoc-id", byocClientSecret: "byoc-secret",
};
const CUSTOMER = "+14155550100";
const T0 = Date.parse("2025-01-01T00:00:00.000Z");
const MESSAGES = "/dfo/3.0/channels/sms_main/messages";

type Seen = { path: string; auth: string | null; body: Record<string, any> };
/** A tiny bridge: 401 without a token it issued, its token endpoint, 200 (204 for typing) with one. */
function fakeBridge(answer?: (body: Record<string, any>, n: number) => unknown, expiresIn: number | undefined = 3600) {
  const seen: Seen[] = [];
  const issued = new Set<string>();
  let acks = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const body = JSON.parse(new TextDecoder().decode(await req.arrayBuffer())) as Record<string, any>;
    const path = new URL(req.url).pathname;
    seen.push({ path, auth: req.headers.get("authorization"), body });
    if (path === "/cxone/dfo/token") {
      if (body.grant_type !== "client_credentials" || body.client_id !== "byoc-id" || body.client_secret !== "byoc-secret") return Response.json({ error: "invalid_client" }, { status: 401 });
      const token = `bt-${issued.size + 1}`;
      issued.add(token);
      return Response.json({ access_token: token, token_type: "Bearer", ...(expiresIn === undefined ? {} : { expires_in: expiresIn }) });
    }
    if (!issued.has(req.headers.get("authorization")?.replace("Bearer ", "") ?? "")) return Response.json({ error: "unauthorized" }, { status: 401 });
    if (path.endsWith("/sender-action")) return new Response(null, { status: 204 });
    acks += 1;
    return Response.json(answer?.(body, acks) ?? { message: { idOnExternalPlatform: `b-${acks}`, createdAtWithMilliseconds: new Date().toISOString() }, thread: body.thread });
  };
  return { fetch, seen };
}

function emulator(options: Partial<DfoEmulatorOptions> = {}, bridge = fakeBridge()) {
  let clock = T0;
  const emu = createDfoEmulator({ ...OPTIONS, fetch: bridge.fetch, now: () => clock, ...options });
  return { emu, bridge, advance: (ms: number) => void (clock += ms) };
}
type Emu = ReturnType<typeof emulator>["emu"];

const basic = (user = "app-id", secret = "app-secret") => `Basic ${btoa(`${user}:${secret}`)}`;
const tokenRequest = (emu: Emu, form: Record<string, string>, auth = basic(), type = "application/x-www-form-urlencoded") =>
  emu.app.fetch(new Request(`${ORIGIN}/auth/token`, { method: "POST", headers: { authorization: auth, "content-type": type }, body: new URLSearchParams(form).toString() }));
const PASSWORD = { grant_type: "password", username: "key-id", password: "key=secret" };
async function login(emu: Emu): Promise<string> {
  return ((await (await tokenRequest(emu, PASSWORD)).json()) as { access_token: string }).access_token;
}
const call = async (emu: Emu, method: string, path: string, body?: unknown, token?: string | null) => {
  const auth = token === undefined ? `Bearer ${await login(emu)}` : token === null ? undefined : `Bearer ${token}`;
  const headers = { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) };
  const res = await emu.app.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, any> };
};
const emuGet = async (emu: Emu, path: string) => (await emu.app.fetch(new Request(`${ORIGIN}/_emu/${path}`))).json() as Promise<any>;
const message = (id = "SM1", over: Record<string, unknown> = {}) => ({
  idOnExternalPlatform: id,
  direction: "inbound",
  createdAtWithMilliseconds: "2025-01-01T00:00:00.123Z",
  thread: { idOnExternalPlatform: CUSTOMER, threadName: "SMS ***0100" },
  messageContent: { type: "TEXT", payload: { text: "hello" } },
  authorEndUserIdentity: { idOnExternalPlatform: CUSTOMER, firstName: CUSTOMER },
  ...over,
});
function without(body: Record<string, any>, path: string) {
  const copy = structuredClone(body);
  const keys = path.split(".");
  const last = keys.pop()!;
  delete keys.reduce((o, k) => o[k], copy)[last];
  return copy;
}

describe("DFO emulator: CXone's token endpoint and discovery", () => {
  it("issues a token for the access key with the application as HTTP Basic; the id_token names the tenant", async () => {
    const { emu } = emulator();
    const res = await tokenRequest(emu, PASSWORD);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, access_token: expect.any(String), refresh_token: expect.any(String) });
    const claims = JSON.parse(atob(body.id_token!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({ tenantId: DEFAULT_TENANT_ID, iss: "https://cxone.niceincontact.com", sub: expect.any(String), exp: T0 / 1000 + 3600 });
    expect((await call(emu, "POST", MESSAGES, message(), body.access_token)).status).toBe(200);
    expect(emu.stats().tokenRequests).toBe(1);
  });

  it.each([
    ["a wrong client secret", PASSWORD, basic("app-id", "nope"), 401, "invalid_client"],
    ["no Basic header", PASSWORD, "", 401, "invalid_client"],
    ["a Basic header that is not base64", PASSWORD, "Basic %%%", 401, "invalid_client"],
    ["client credentials grant", { grant_type: "client_credentials" }, basic(), 400, "unsupported_grant_type"],
    ["a wrong access key id", { ...PASSWORD, username: "other" }, basic(), 401, "invalid_grant"],
    ["a wrong access key secret", { ...PASSWORD, password: "key" }, basic(), 401, "invalid_grant"],
    ["a refresh token it did not issue", { grant_type: "refresh_token", refresh_token: "refresh-me" }, basic(), 401, "invalid_grant"],
  ])("refuses %s", async (_name, form, auth, status, error) => {
    const res = await tokenRequest(emulator().emu, form, auth);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error });
  });

  it("reads the grant from a form body only, and refreshes with a refresh token until tokens are revoked", async () => {
    const { emu } = emulator();
    expect(await (await tokenRequest(emu, PASSWORD, basic(), "application/json")).json()).toMatchObject({ error: "invalid_request" });
    const { refresh_token } = (await (await tokenRequest(emu, PASSWORD)).json()) as { refresh_token: string };
    expect((await tokenRequest(emu, { grant_type: "refresh_token", refresh_token })).status).toBe(200);
    emu.revokeTokens();
    expect((await tokenRequest(emu, { grant_type: "refresh_token", refresh_token })).status).toBe(401);
  });

  it("answers discovery for its tenant only, without auth", async () => {
    const { emu } = emulator({ area: "au1" });
    const known = await emu.app.fetch(new Request(`${ORIGIN}/.well-known/cxone-configuration?tenantId=${DEFAULT_TENANT_ID}`));
    expect(await known.json()).toEqual({ private: false, ui_endpoint: ORIGIN, auth_endpoint: ORIGIN, api_endpoint: ORIGIN, area: "au1", domain: "niceincontact.com", uhDomain: "niceincontact.com", tenantId: DEFAULT_TENANT_ID });
    for (const query of ["?tenantId=someone-else", ""]) expect((await emu.app.fetch(new Request(`${ORIGIN}/.well-known/cxone-configuration${query}`))).status).toBe(404);
  });

  it.each([
    ["no token", null, 0],
    ["a token it did not issue", "not-a-token", 0],
    ["a revoked token", "revoked", 0],
    ["an expired token", "expired", 3600_001],
  ])("refuses /dfo/3.0 with %s: 401 in DFO's error shape", async (_name, token, later) => {
    const { emu, advance } = emulator();
    const issued = await login(emu);
    if (token === "revoked") expect(await (await emu.app.fetch(new Request(`${ORIGIN}/_emu/revoke-tokens`, { method: "POST" }))).json()).toEqual({ epoch: 1 });
    advance(later);
    const res = await call(emu, "POST", MESSAGES, message(), token === "revoked" || token === "expired" ? issued : token);
    expect(res).toEqual({ status: 401, json: { errors: [{ message: "invalid token" }] } });
    expect(emu.state.threads.size).toBe(0);
  });
});

describe("DFO emulator: channel messages, threads and contacts", () => {
  it("stores a valid message and answers the contact and message ids; unknown fields are accepted", async () => {
    const { emu } = emulator();
    const body = message("SM1", {
      attachments: [{ friendlyName: "cat.jpg", url: "https://dfo.test/dfo/files/x" }],
      contact: { customFields: [{ ident: "campaign", value: "spring" }] },
      recipients: [{ idOnExternalPlatform: CUSTOMER }],
      somethingNew: { deep: true },
    });
    const res = await call(emu, "POST", MESSAGES, body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      consumerContact: { id: expect.any(String), status: "open", threadIdOnExternalPlatform: CUSTOMER },
      message: { id: expect.any(String), idOnExternalPlatform: "SM1", direction: "inbound" },
    });
    const [thread] = await emuGet(emu, "threads");
    expect(thread).toMatchObject({ channelId: "sms_main", threadId: CUSTOMER, threadName: "SMS ***0100", contacts: [{ id: res.json.consumerContact.id, status: "open" }] });
    expect(thread.messages).toEqual([{
      id: res.json.message.id, idOnExternalPlatform: "SM1", direction: "inbound", text: "hello",
      attachments: [{ friendlyName: "cat.jpg", url: "https://dfo.test/dfo/files/x" }],
      authorEndUserIdentity: { idOnExternalPlatform: CUSTOMER, firstName: CUSTOMER }, customFields: [{ ident: "campaign", value: "spring" }],
      createdAtWithMilliseconds: "2025-01-01T00:00:00.123Z", receivedAt: new Date(T0).toISOString(), contactId: res.json.consumerContact.id,
    }]);
    expect(emu.stats().calls).toEqual({ "POST /dfo/3.0/channels/:channelId/messages": 1 });
  });

  it.each(["idOnExternalPlatform", "direction", "createdAtWithMilliseconds", "thread", "thread.idOnExternalPlatform", "messageContent", "messageContent.type",
    "messageContent.payload.text", "authorEndUserIdentity", "authorEndUserIdentity.idOnExternalPlatform"])("400 naming %s when it is missing", async (field) => {
    const { emu } = emulator();
    const res = await call(emu, "POST", MESSAGES, without(message(), field));
    expect(res.status).toBe(400);
    expect(res.json.errors).toContainEqual(expect.objectContaining({ field, message: expect.any(String) }));
    expect(emu.state.threads.size).toBe(0);
  });

  it.each([
    ["createdAtWithMilliseconds", { createdAtWithMilliseconds: "2025-01-01T00:00:00Z" }],
    ["direction", { direction: "sideways" }],
    ["messageContent.type", { messageContent: { type: "IMAGE", payload: { text: "x" } } }],
    ["attachments.0.friendlyName", { attachments: [{ url: "https://x.test/a" }] }],
    ["attachments.0.url", { attachments: [{ friendlyName: "a", url: "ftp://x.test/a" }] }],
    ["contact.customFields.0.value", { contact: { customFields: [{ ident: "campaign", value: 7 }] } }],
  ])("400 naming %s when it is malformed", async (field, over) => {
    const res = await call(emulator().emu, "POST", MESSAGES, message("SM1", over));
    expect(res.status).toBe(400);
    expect(res.json.errors.map((e: { field?: string }) => e.field)).toContain(field);
  });

  it("404s an unknown channel: by default ids shaped <box>_<id>; with a list, only those", async () => {
    expect((await call(emulator().emu, "POST", "/dfo/3.0/channels/SMS%20main/messages", message())).status).toBe(404);
    const { emu } = emulator({ channels: ["sms_a"] });
    expect((await call(emu, "POST", "/dfo/3.0/channels/sms_a/messages", message())).status).toBe(200);
    expect((await call(emu, "POST", "/dfo/3.0/channels/sms_b/messages", message())).json).toEqual({ errors: [{ message: "channel sms_b not found" }] });
  });

  it("409s an idOnExternalPlatform already in the channel and stores it once (another channel may reuse it)", async () => {
    const { emu } = emulator();
    expect((await call(emu, "POST", MESSAGES, message("SM1"))).status).toBe(200);
    const again = await call(emu, "POST", MESSAGES, message("SM1", { messageContent: { type: "TEXT", payload: { text: "other" } } }));
    expect(again).toEqual({ status: 409, json: { errors: [{ message: "message with this idOnExternalPlatform already exists", errorCode: "duplicate" }] } });
    expect((await call(emu, "POST", "/dfo/3.0/channels/sms_other/messages", message("SM1"))).status).toBe(200);
    expect((await emuGet(emu, "threads")).map((t: { messages: unknown[] }) => t.messages.length)).toEqual([1, 1]);
  });

  it("threads by thread id: later messages join the thread and its open contact; a closed contact is replaced", async () => {
    const { emu } = emulator();
    const first = await call(emu, "POST", MESSAGES, message("SM1"));
    const second = await call(emu, "POST", MESSAGES, message("SM2", { direction: "outbound" }));
    expect(second.json.consumerContact.id).toBe(first.json.consumerContact.id);
    const other = await call(emu, "POST", MESSAGES, message("SM3", { thread: { idOnExternalPlatform: "+14155550199" } }));
    expect(other.json.consumerContact.id).not.toBe(first.json.consumerContact.id);
    const contactId = first.json.consumerContact.id as string;
    expect(await call(emu, "PUT", `/dfo/3.0/contacts/${contactId}/status`, { status: "closed", updatedByUserId: 7 })).toEqual({ status: 200, json: {} });
    const third = await call(emu, "POST", MESSAGES, message("SM4"));
    expect(third.json.consumerContact).toMatchObject({ status: "open", threadIdOnExternalPlatform: CUSTOMER });
    expect(third.json.consumerContact.id).not.toBe(contactId);
    const thread = (await emuGet(emu, "threads"))[0];
    expect(thread.contacts.map((c: { status: string }) => c.status)).toEqual(["closed", "open"]);
    expect(thread.messages.map((m: { idOnExternalPlatform: string }) => m.idOnExternalPlatform)).toEqual(["SM1", "SM2", "SM4"]);
    const contact = (await emuGet(emu, "contacts")).find((c: { id: string }) => c.id === contactId);
    expect(contact.history).toMatchObject([{ status: "open" }, { status: "closed", updatedByUserId: 7 }]);
  });

  it("contact status: unknown contact 404, unknown status 400", async () => {
    const { emu } = emulator();
    const { json } = await call(emu, "POST", MESSAGES, message());
    expect((await call(emu, "PUT", "/dfo/3.0/contacts/999/status", { status: "closed" })).status).toBe(404);
    const bad = await call(emu, "PUT", `/dfo/3.0/contacts/${json.consumerContact.id}/status`, { status: "done" });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].field).toBe("status");
  });
});

describe("DFO emulator: attachments and message status", () => {
  it("serves an uploaded attachment's bytes with its MIME type until it expires", async () => {
    const { emu, advance } = emulator();
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x10, 0x80]);
    const res = await call(emu, "POST", "/dfo/3.0/attachments/temporary", { content: btoa(String.fromCharCode(...bytes)), mimeType: "image/jpeg" });
    expect(res.json).toEqual({ id: expect.any(String), url: `${ORIGIN}/dfo/files/${res.json.id}`, expireAt: expect.any(String) });
    for (const url of [res.json.url, `${ORIGIN}/_emu/files/${res.json.id}`]) {
      const file = await emu.app.fetch(new Request(url));
      expect(file.headers.get("content-type")).toBe("image/jpeg");
      expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
    }
    advance(Date.parse(res.json.expireAt) - T0);
    expect((await emu.app.fetch(new Request(res.json.url))).status).toBe(404);
  });

  it.each([
    ["content", { content: "not base64!", mimeType: "image/png" }],
    ["content", { content: "data:image/png;base64,AAAA", mimeType: "image/png" }],
    ["content", { content: "AAA", mimeType: "image/png" }],
    ["content", { content: "A".repeat(13_981_020), mimeType: "image/png" }],
    ["mimeType", { content: "AAAA" }],
  ])("refuses an upload with a bad %s", async (field, body) => {
    const res = await call(emulator().emu, "POST", "/dfo/3.0/attachments/temporary", body);
    expect(res.status).toBe(400);
    expect(res.json.errors[0].field).toBe(field);
  });

  it("records status updates of a known message in order; unknown message or channel 404; bad bodies 400", async () => {
    const { emu } = emulator();
    const id = "SM+1/2";
    await call(emu, "POST", MESSAGES, message(id, { direction: "outbound" }));
    const path = `${MESSAGES}/${encodeURIComponent(id)}/status`;
    expect(await call(emu, "PUT", path, { status: "delivered", updatedAt: "2025-01-01T00:00:01Z" })).toEqual({ status: 200, json: {} });
    expect((await call(emu, "PUT", path, { status: "failed", updatedAt: "2025-01-01T00:00:02.000Z", reason: "30003" })).status).toBe(200);
    expect((await call(emu, "PUT", `${MESSAGES}/SM9/status`, { status: "seen", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(404);
    expect((await call(emu, "PUT", `/dfo/3.0/channels/sms_x/messages/${encodeURIComponent(id)}/status`, { status: "seen", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(404);
    for (const [field, body] of [["status", { status: "sent", updatedAt: "2025-01-01T00:00:01Z" }], ["updatedAt", { status: "seen" }]] as const) {
      expect((await call(emu, "PUT", path, body)).json.errors[0].field).toBe(field);
    }
    expect(await emuGet(emu, "statuses")).toEqual({
      [id]: [
        { channelId: "sms_main", status: "delivered", updatedAt: "2025-01-01T00:00:01Z", at: new Date(T0).toISOString() },
        { channelId: "sms_main", status: "failed", updatedAt: "2025-01-01T00:00:02.000Z", reason: "30003", at: new Date(T0).toISOString() },
      ],
    });
  });
});

describe("DFO emulator: faults", () => {
  it("apply to /auth/token and /dfo/3.0 only, and mark what a lost answer stored", async () => {
    const { emu } = emulator();
    const token = await login(emu);
    const rules = [{ path: "^/dfo/3\\.0/channels/[^/]+/messages$", kind: "lost", times: 1 }, { path: ".", kind: "status", status: 503 }];
    expect((await emu.app.fetch(new Request(`${ORIGIN}/_emu/faults`, { method: "POST", body: JSON.stringify({ rules }) }))).status).toBe(200);
    expect((await call(emu, "POST", MESSAGES, message("SM1"), token)).status).toBe(500);
    expect((await call(emu, "POST", MESSAGES, message("SM1"), token)).status).toBe(503);
    expect((await tokenRequest(emu, PASSWORD)).status).toBe(503);
    expect((await emu.app.fetch(new Request(`${ORIGIN}/.well-known/cxone-configuration?tenantId=${DEFAULT_TENANT_ID}`))).status).toBe(200);
    expect((await emuGet(emu, "threads"))[0].messages).toMatchObject([{ idOnExternalPlatform: "SM1", answerLost: true }]);
    await emu.app.fetch(new Request(`${ORIGIN}/_emu/faults`, { method: "DELETE" }));
    expect((await call(emu, "POST", MESSAGES, message("SM1"), token)).status).toBe(409);
    expect((await emuGet(emu, "stats")).faults).toEqual({ lost: 1, status: 2 });
  });
});

describe("DFO emulator: agent replies and typing, with CXone's side of the OAuth dance", () => {
  const reply = { channelId: "sms_main", threadId: CUSTOMER, text: "Hi, Agent Smith here" };

  it("2.0 form: calls without a token, gets 401, asks the bridge for a token, calls again; the reply's id then takes statuses", async () => {
    const { emu, bridge } = emulator();
    const result = await emu.agentReply({ ...reply, attachments: [{ url: "https://cdn.test/files/a%20b.png", mimeType: "image/png" }] });
    expect(result).toMatchObject({ status: 200, tokenRequested: true, attempts: 2, answer: { message: { idOnExternalPlatform: "b-1" } } });
    expect(bridge.seen.map((s) => [s.path, s.auth])).toEqual([
      ["/cxone/dfo/2.0/channel/sms_main/outbound", null],
      ["/cxone/dfo/token", null],
      ["/cxone/dfo/2.0/channel/sms_main/outbound", "Bearer bt-1"],
    ]);
    expect(bridge.seen[1]!.body).toEqual({ grant_type: "client_credentials", client_id: "byoc-id", client_secret: "byoc-secret" });
    expect(bridge.seen[2]!.body).toEqual({
      brand: { id: 1234 }, channel: { id: "sms_main" }, thread: { idOnExternalPlatform: CUSTOMER },
      messageContent: { type: "TEXT", payload: { text: reply.text } },
      endUserRecipients: [{ idOnExternalPlatform: CUSTOMER, name: CUSTOMER, isPrimary: true, isPrivate: false }],
      attachments: [{ url: "https://cdn.test/files/a%20b.png", friendlyName: "a b.png", mimeType: "image/png" }],
      authorUser: { id: 42, firstName: "Agent", surname: "Smith" }, id: result.id, createdAtWithMilliseconds: new Date(T0).toISOString(),
    });
    expect((await emuGet(emu, "threads"))[0].messages).toMatchObject([{ id: result.id, idOnExternalPlatform: "b-1", direction: "outbound", text: reply.text, agentReply: { form: "2.0", cxoneMessageId: result.id } }]);
    expect((await call(emu, "PUT", `${MESSAGES}/b-1/status`, { status: "delivered", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(200);
    expect(await emuGet(emu, "stats")).toMatchObject({ bridgeTokenRequests: 1, unauthorizedCallbacks: 1, callbacksWithoutToken: 1, callbacks: 2 });
  });

  it("reuses its token until it expires, then starts the dance again", async () => {
    const { emu, bridge, advance } = emulator({}, fakeBridge(undefined, 60));
    await emu.agentReply(reply);
    expect(await emu.agentReply(reply)).toMatchObject({ status: 200, tokenRequested: false, attempts: 1 });
    expect(bridge.seen.at(-1)!.auth).toBe("Bearer bt-1");
    advance(60_000);
    expect(await emu.agentReply(reply)).toMatchObject({ status: 200, tokenRequested: true, attempts: 2 });
    expect(emu.stats()).toMatchObject({ bridgeTokenRequests: 2, callbacksWithoutToken: 2, unauthorizedCallbacks: 2 });
    expect((await emuGet(emu, "threads"))[0].messages.map((m: { idOnExternalPlatform: string }) => m.idOnExternalPlatform)).toEqual(["b-1", "b-2", "b-3"]);
  });

  it("1.0 form posts to the thread, with recipients under `recipients`, and takes NICE's sample answer (a top-level id)", async () => {
    const { emu, bridge } = emulator({}, fakeBridge((_body, n) => ({ idOnExternalPlatform: `top-${n}` })));
    const result = await emu.agentReply({ ...reply, form: "1.0", recipientsKey: "recipients", cxoneMessageId: "cx-9" });
    expect(result.status).toBe(200);
    const sent = bridge.seen.at(-1)!;
    expect(sent.path).toBe("/cxone/dfo/1.0/posts/%2B14155550100/messages");
    expect(sent.body).toMatchObject({ recipients: [{ idOnExternalPlatform: CUSTOMER }], id: "cx-9" });
    expect(sent.body).not.toHaveProperty("endUserRecipients");
    expect((await call(emu, "PUT", `${MESSAGES}/top-1/status`, { status: "seen", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(200);
  });

  it("leaves CXone's id out when told; the same reply acknowledged again under the same id is stored once", async () => {
    const { emu, bridge } = emulator({}, fakeBridge((body) => ({ message: { idOnExternalPlatform: `b-${body.id ?? "none"}` } })));
    await emu.agentReply({ ...reply, cxoneMessageId: null });
    expect(bridge.seen.at(-1)!.body).not.toHaveProperty("id");
    await emu.agentReply({ ...reply, id: "same" });
    await emu.agentReply({ ...reply, id: "same" });
    expect((await emuGet(emu, "threads"))[0].messages.map((m: { idOnExternalPlatform: string }) => m.idOnExternalPlatform)).toEqual(["b-none", "b-same"]);
  });

  it("answerLost: the bridge is called and answers, CXone records nothing; the same reply delivered again is recorded once", async () => {
    const { emu, bridge } = emulator({}, fakeBridge((body) => ({ message: { idOnExternalPlatform: `b-${body.id}` } })));
    expect(await emu.agentReply({ ...reply, id: "r1", answerLost: true })).toMatchObject({ status: 200, answerLost: true, answer: { message: { idOnExternalPlatform: "b-r1" } } });
    expect(bridge.seen.at(-1)!.body).toMatchObject({ id: "r1" });
    expect(bridge.seen.at(-1)!.body).not.toHaveProperty("answerLost");
    expect(emu.state.threads.size).toBe(0);
    expect((await call(emu, "PUT", `${MESSAGES}/b-r1/status`, { status: "delivered", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(404);
    const again = await emu.agentReply({ ...reply, id: "r1" });
    expect(again).toMatchObject({ status: 200 });
    expect(again).not.toHaveProperty("answerLost");
    expect((await emuGet(emu, "threads"))[0].messages.map((m: { idOnExternalPlatform: string }) => m.idOnExternalPlatform)).toEqual(["b-r1"]);
    expect((await call(emu, "PUT", `${MESSAGES}/b-r1/status`, { status: "delivered", updatedAt: "2025-01-01T00:00:01Z" })).status).toBe(200);
  });

  it("calls once more at most: a token the bridge refuses ends the attempt with the 401", async () => {
    const { emu, bridge } = emulator({ byocClientSecret: "wrong" });
    expect(await emu.agentReply(reply)).toMatchObject({ status: 401, tokenRequested: true, attempts: 1, tokenStatus: 401 });
    expect(bridge.seen).toHaveLength(2);
    expect(emu.state.threads.size).toBe(0);
  });

  it("typing indicators go to the sender-action route with the same dance", async () => {
    const { emu, bridge } = emulator();
    expect(await emu.senderAction({ channelId: "sms_main", threadId: CUSTOMER, action: "isTypingOn" })).toBe(204);
    expect(bridge.seen.at(-1)).toEqual({
      path: "/cxone/dfo/1.0/channel/sms_main/thread/%2B14155550100/sender-action", auth: "Bearer bt-1",
      body: { brand: { id: 1234 }, senderAction: { action: "isTypingOn" }, authorUser: { id: 42, firstName: "Agent", surname: "Smith" } },
    });
  });

  it("control routes: 201 with the result, 400 for a bad input, 502 when the bridge cannot be reached", async () => {
    const post = (emu: Emu, path: string, body: unknown) => emu.app.fetch(new Request(`${ORIGIN}/_emu/${path}`, { method: "POST", body: JSON.stringify(body) }));
    const { emu } = emulator();
    const ok = await post(emu, "agent-reply", reply);
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ status: 200, attempts: 2 });
    expect(await (await post(emu, "sender-action", { channelId: "sms_main", threadId: CUSTOMER, action: "isTypingOff" })).json()).toEqual({ status: 204 });
    expect((await post(emu, "agent-reply", { channelId: "sms_main" })).status).toBe(400);
    const down = emulator({ fetch: async () => { throw new TypeError("connection refused"); } }).emu;
    const failed = await post(down, "agent-reply", reply);
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ error: "delivery_failed" });
  });
});
