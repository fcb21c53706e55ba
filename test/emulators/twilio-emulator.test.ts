import { describe, expect, it, vi } from "vitest";
import { fetchTwilioMedia, MAX_MEDIA_BYTES } from "../../src/adapters/twilio/media";
import { requireConfig } from "../../src/config";
import { twilioOpenApi } from "../../emulators/twilio/openapi-subset";
import { TEST_BINDINGS } from "../support/bindings";
import { CAPTURE, capturingEmulator, formOf, signedFor, textOf } from "../support/twilio-capture";
import type { TwilioEmulatorOptions } from "../../emulators/twilio/app";
import { network, serveOrigin } from "../support/network";

const { ACCOUNT, TOKEN, KEY } = CAPTURE;
const SERVICE = `MG${"a".repeat(32)}`;
const API = `https://twilio.test/2010-04-01/Accounts/${ACCOUNT}`;
const valid = { To: "+14155550100", From: "+15550001000", Body: "hi", StatusCallback: "https://bridge.example/twilio/status" };

const emulator = capturingEmulator;
const accepted = signedFor;
type Emu = ReturnType<typeof emulator>["emu"];

const basic = (user = ACCOUNT, secret = TOKEN) => `Basic ${btoa(`${user}:${secret}`)}`;
const create = (emu: Emu, fields: Record<string, string> | URLSearchParams, auth = basic(), url = `${API}/Messages.json`) =>
  emu.app.fetch(new Request(url, { method: "POST", headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) }));
const get = (emu: Emu, url: string) => emu.app.fetch(new Request(url.startsWith("/") ? `https://twilio.test${url}` : url, { headers: { authorization: basic() } }));
type Page = { messages: { sid: string; body: string }[]; next_page_uri: string | null; previous_page_uri: string | null } & Record<string, unknown>;
const list = async (emu: Emu, query: string) => (await (await get(emu, `${API}/Messages.json?${query}`)).json()) as Page;

type Schema = { readonly type: string; readonly nullable: boolean; readonly enum?: readonly string[]; readonly pattern?: string; readonly format?: string };
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
/** The properties of `json` that break their OpenAPI schema (type, null, enum, pattern, RFC 2822 dates). */
function violations(json: Record<string, unknown>, schemas: Record<string, Schema>): string[] {
  return Object.entries(schemas)
    .filter(([name, s]) => {
      const v = json[name];
      if (v === null) return !s.nullable;
      const typed = { string: typeof v === "string", integer: Number.isInteger(v), object: typeof v === "object", array: Array.isArray(v) }[s.type];
      if (!typed) return true;
      if (typeof v !== "string") return false;
      return (s.enum && !s.enum.includes(v)) || (s.pattern && !new RegExp(s.pattern).test(v)) || (s.format === "date-time-rfc-2822" && !RFC2822.test(v));
    })
    .map(([name]) => name);
}

describe("the Twilio emulator's API, against Twilio's OpenAPI description", () => {
  it.each([
    ["the account's auth token", basic()],
    ["an API key", basic(KEY, "key-secret")],
  ])("creates a message authenticated with %s, answering exactly the OpenAPI message schema", async (_name, auth) => {
    const { emu } = emulator();
    const res = await create(emu, valid, auth);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(twilioOpenApi.message).sort());
    expect(violations(body, twilioOpenApi.message)).toEqual([]);
    expect(body).toMatchObject({ to: valid.To, from: valid.From, body: "hi", status: "queued", num_segments: "1", num_media: "0", direction: "outbound-api", price: null, error_code: null });
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(body.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Messages/${body.sid}.json`);
    expect(emu.messages()).toMatchObject([{ sid: body.sid, status_callback: valid.StatusCallback }]);
  });

  it.each([
    ["a wrong token", basic(ACCOUNT, "nope"), `${API}/Messages.json`],
    ["an API key with a wrong secret", basic(KEY, "nope"), `${API}/Messages.json`],
    ["another account in the path", basic(), `https://twilio.test/2010-04-01/Accounts/AC${"3".repeat(32)}/Messages.json`],
    ["no credentials", "", `${API}/Messages.json`],
    ["credentials that are not base64", "Basic %%%", `${API}/Messages.json`],
  ])("refuses %s with 401 and Twilio's error 20003", async (_name, auth, url) => {
    const { emu } = emulator();
    const res = await create(emu, valid, auth, url);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 });
    expect(emu.messages()).toEqual([]);
  });

  const media = (n: number) => Array.from({ length: n }, (_, i): [string, string] => ["MediaUrl", `https://m.example/${i}.jpg`]);
  it.each<[string, Record<string, string> | [string, string][], number]>([
    ["no To", { From: valid.From, Body: "x" }, 21604],
    ["an empty To", { ...valid, To: "" }, 21604],
    ["a To that is not E.164", { ...valid, To: "4155550100" }, 21211],
    ["no From and no MessagingServiceSid", { To: valid.To, Body: "x" }, 21603],
    ["a From that is not E.164", { ...valid, From: "555-0100" }, 21212],
    ["no Body, MediaUrl or ContentSid", { To: valid.To, From: valid.From }, 21602],
    ["a body over 1600 characters", { ...valid, Body: "x".repeat(1601) }, 21617],
    ["a MessagingServiceSid not matching ^MG[0-9a-fA-F]{32}$", { To: valid.To, MessagingServiceSid: "MG1", Body: "x" }, 21701],
    ["a StatusCallback that is not a URL", { ...valid, StatusCallback: "bridge/status" }, 21609],
    ["a MediaUrl that is not a URL", [["To", valid.To], ["From", valid.From], ["MediaUrl", "not a url"]], 21620],
    ["eleven MediaUrls", [["To", valid.To], ["From", valid.From], ...media(11)], 21623],
    ["a field CreateMessageRequest does not have", { ...valid, Bodyy: "typo" }, 20001],
    ["a boolean field that is not a boolean", { ...valid, SmartEncoded: "yes" }, 20001],
    ["an enum field outside its enum", { ...valid, ContentRetention: "forever" }, 20001],
    ["an integer field that is not an integer", { ...valid, ValidityPeriod: "1.5" }, 20001],
    ["a repeated field that is not an array", [...Object.entries(valid), ["Body", "again"]], 20001],
  ])("refuses %s with 400 and code %i", async (_name, fields, code) => {
    const { emu } = emulator();
    const res = await create(emu, new URLSearchParams(fields));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code, status: 400, more_info: `https://www.twilio.com/docs/errors/${code}` });
    expect(emu.messages()).toEqual([]);
  });

  it("reads parameters only from a form body, as Twilio does", async () => {
    const { emu } = emulator();
    const res = await emu.app.fetch(new Request(`${API}/Messages.json`, { method: "POST", headers: { authorization: basic(), "content-type": "application/json" }, body: JSON.stringify(valid) }));
    expect(await res.json()).toMatchObject({ status: 400, code: 21604 });
  });

  it("refuses an unsubscribed recipient with 21610", async () => {
    const { emu } = emulator();
    emu.unsubscribe(valid.To);
    const res = await create(emu, valid);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 21610 });
  });

  it("counts segments, characters (not UTF-16 units) for the 1600 limit, repeated MediaUrl, and a Messaging Service", async () => {
    const { emu } = emulator();
    const segments = async (Body: string) => ((await (await create(emu, { ...valid, Body })).json()) as { num_segments: string }).num_segments;
    expect(await segments("x".repeat(160))).toBe("1");
    expect(await segments("x".repeat(161))).toBe("2");
    expect(await segments("é€".repeat(35))).toBe("1");
    expect(await segments(`${"x".repeat(69)}👋`)).toBe("2");
    expect((await create(emu, { ...valid, Body: "👋".repeat(1600) })).status).toBe(201);

    const form = new URLSearchParams({ To: valid.To, MessagingServiceSid: SERVICE });
    for (const [k, v] of media(2)) form.append(k, v);
    const body = (await (await create(emu, form)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "accepted", num_media: "2", num_segments: "1", messaging_service_sid: SERVICE, from: "+15005550006" });
    expect(body.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(violations(body, twilioOpenApi.message)).toEqual([]);
    expect(emu.messages().at(-1)!.media_urls).toEqual(["https://m.example/0.jpg", "https://m.example/1.jpg"]);
  });

  it("fetches by SID, and answers an unknown or malformed SID with 404 in Twilio's format", async () => {
    const { emu } = emulator();
    await create(emu, valid);
    const sid = emu.messages()[0]!.sid;
    const one = await get(emu, `${API}/Messages/${sid}.json`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ sid, body: "hi", status: "queued" });
    for (const missing of [`SM${"0".repeat(32)}`, "SM1", sid.toLowerCase()]) {
      const res = await get(emu, `${API}/Messages/${missing}.json`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
    }
  });

  it("lists newest first with To, From and DateSent filters, in pages that follow next_page_uri", async () => {
    const { emu } = emulator();
    for (let i = 0; i < 5; i++) await create(emu, { ...valid, Body: `m${i}` });
    await create(emu, { ...valid, To: "+14155550199", Body: "other" });
    const today = new Date().toISOString().slice(0, 10);

    const first = await list(emu, `To=%2B14155550100&From=%2B15550001000&DateSent%3E=${today}&PageSize=2`);
    expect(Object.keys(first).sort()).toEqual(Object.keys(twilioOpenApi.messagePage).sort());
    expect(violations(first, twilioOpenApi.messagePage)).toEqual([]);
    expect(first).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(first.messages.map((m) => m.body)).toEqual(["m4", "m3"]);
    expect(first.next_page_uri).toMatch(new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Messages\\.json\\?To=%2B14155550100&From=%2B15550001000&DateSent%3E=${today}&PageSize=2&Page=1&PageToken=PASM`));

    // A message created between two pages does not shift the next one (the token anchors it).
    await create(emu, { ...valid, Body: "late" });
    const second = (await (await get(emu, first.next_page_uri!)).json()) as Page;
    expect(second.messages.map((m) => m.body)).toEqual(["m2", "m1"]);
    expect(second).toMatchObject({ page: 1, start: 2, end: 3 });
    expect(second.previous_page_uri).not.toBeNull();
    const third = (await (await get(emu, second.next_page_uri!)).json()) as Page;
    expect(third.messages.map((m) => m.body)).toEqual(["m0"]);
    expect(third.next_page_uri).toBeNull();

    expect((await list(emu, "PageSize=50")).messages).toHaveLength(7);
    expect((await list(emu, `DateSent=${today}&To=%2B14155550199`)).messages.map((m) => m.body)).toEqual(["other"]);
    expect((await list(emu, "DateSent%3E=2999-01-01")).messages).toEqual([]);
    expect((await list(emu, `DateSent%3C=${today}`)).messages).toHaveLength(7);
    expect((await list(emu, "DateSent%3C=2000-01-01")).messages).toEqual([]);
    // With a time, as the SDKs send dateSentAfter, the bound is that instant.
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    expect((await list(emu, `DateSent%3E=${inAnHour}`)).messages).toEqual([]);
  });

  it.each([
    ["a parameter GET Messages.json does not have", "Recipient=x", 20001],
    ["a PageSize over the maximum", "PageSize=1001", 20001],
    ["a date that is not a date", "DateSent%3E=yesterday", 20001],
    ["a PageToken the API never gave", `PageToken=PASM${"9".repeat(32)}`, 21481],
  ])("refuses a list query with %s", async (_name, query, code) => {
    const { emu } = emulator();
    const res = await get(emu, `${API}/Messages.json?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code, status: 400 });
  });

  it.each(["2008-01-02", "06/11/2019 22:05:25 MST", "2019-06-11 22:05:25.000", "Wed, 19 Jun 2019 22:04:00 -0000", "2019-06-11T22:05:25Z"])(
    "accepts the DateSent> form %s (the description's own examples, and the SDKs')",
    async (value) => {
      const { emu } = emulator();
      await create(emu, valid);
      const page = await list(emu, new URLSearchParams({ "DateSent>": value }).toString());
      expect(page.messages).toHaveLength(1);
    },
  );
});

describe("the Twilio emulator as the carrier: webhooks and status callbacks", () => {
  it("sends Twilio's inbound webhook form, signed for the public URL and delivered to the bridge", async () => {
    const { emu, captured } = emulator({ bridgeUrl: "http://localhost:8787", publicBaseUrl: "https://sms.example.com" });
    const result = await emu.sendInbound({
      from: "+14155550100",
      to: "+15550001000",
      body: "héllo +&= 👋",
      media: [{ url: "https://m.example/a.png", contentType: "image/png" }, { url: "https://m.example/b.jpg", contentType: "image/jpeg" }],
      messagingServiceSid: SERVICE,
    });
    expect(result).toMatchObject({ status: 200, body: "<Response></Response>" });
    const [request] = captured;
    expect(request!.url).toBe("http://localhost:8787/twilio/inbound");
    expect(await accepted(request!, "https://sms.example.com/twilio/inbound")).toBe(true);
    expect(await accepted(request!)).toBe(false);
    const form = await formOf(request!);
    expect(form).toMatchObject({
      MessageSid: result.sid,
      SmsSid: result.sid,
      SmsMessageSid: result.sid,
      AccountSid: ACCOUNT,
      From: "+14155550100",
      To: "+15550001000",
      Body: "héllo +&= 👋",
      NumMedia: "2",
      NumSegments: "1",
      MediaUrl0: "https://m.example/a.png",
      MediaContentType0: "image/png",
      MediaUrl1: "https://m.example/b.jpg",
      MediaContentType1: "image/jpeg",
      ApiVersion: "2010-04-01",
      SmsStatus: "received",
      FromCountry: "US",
      ToCountry: "US",
      MessagingServiceSid: SERVICE,
    });
    expect(result.sid).toMatch(/^MM[0-9a-f]{32}$/);
  });

  it("sends signed status callbacks with Twilio's fields and records the status", async () => {
    const { emu, captured } = emulator();
    await create(emu, valid);
    const sid = emu.messages()[0]!.sid;
    expect(await emu.sendStatus(sid, "sent")).toBe(200);
    expect(await emu.sendStatus(sid, "undelivered", 30003)).toBe(200);
    expect(captured.map((r) => r.url)).toEqual([valid.StatusCallback, valid.StatusCallback]);
    for (const request of captured) expect(await accepted(request)).toBe(true);
    expect(await formOf(captured[1]!)).toEqual({
      MessageSid: sid,
      SmsSid: sid,
      MessageStatus: "undelivered",
      SmsStatus: "undelivered",
      AccountSid: ACCOUNT,
      From: valid.From,
      To: valid.To,
      ErrorCode: "30003",
      ApiVersion: "2010-04-01",
    });
    expect(await (await get(emu, `${API}/Messages/${sid}.json`)).json()).toMatchObject({ status: "undelivered", error_code: 30003, error_message: "Unreachable destination handset" });
    await expect(emu.sendStatus(sid, "lost-in-space")).rejects.toThrow(/status/);
  });

  it("plays out queued → sending → sent → the recipient's outcome on its own with autoStatus", async () => {
    const { emu, captured } = emulator({ autoStatus: { stepMs: 10 } });
    emu.setOutcome(valid.To, { status: "undelivered", errorCode: 30003 });
    await create(emu, valid);
    await create(emu, { ...valid, To: "+14155550111" });
    await create(emu, { ...valid, StatusCallback: "" });
    await vi.waitFor(() => expect(captured).toHaveLength(6));
    const seen = await Promise.all(captured.map(formOf));
    expect(seen.filter((f) => f.To === valid.To).map((f) => [f.MessageStatus, f.ErrorCode])).toEqual([["sending", undefined], ["sent", undefined], ["undelivered", "30003"]]);
    expect(seen.filter((f) => f.To === "+14155550111").map((f) => f.MessageStatus)).toEqual(["sending", "sent", "delivered"]);
    for (const request of captured) expect(await accepted(request)).toBe(true);
    expect(emu.messages().map((m) => m.status)).toEqual(["undelivered", "delivered", "queued"]);
  });

  it("drops, duplicates and reorders automatic callbacks, while Twilio's own record still moves on", async () => {
    const statuses = async (faults: TwilioEmulatorOptions["callbackFaults"], random: () => number) => {
      const { emu, captured } = emulator({ autoStatus: { stepMs: 20 }, callbackFaults: faults, random });
      await create(emu, valid);
      await vi.waitFor(() => expect(emu.messages()[0]!.status).toBe("delivered"));
      await new Promise((resolve) => setTimeout(resolve, 60));
      return Promise.all(captured.map(async (r) => (await formOf(r)).MessageStatus));
    };
    expect(await statuses({ drop: 1 }, Math.random)).toEqual([]);
    expect(await statuses({ duplicate: 1 }, Math.random)).toEqual(["sending", "sending", "sent", "sent", "delivered", "delivered"]);
    // Per step the emulator draws: drop?, reorder?, duplicate?. Only "sending" is held back.
    const draws = [0.9, 0.1, 0.9];
    expect(await statuses({ reorder: 0.5 }, () => draws.shift() ?? 0.9)).toEqual(["sent", "sending", "delivered"]);
  });

  it("cancels scheduled callbacks on reset", async () => {
    const { emu, captured } = emulator({ autoStatus: { stepMs: 10 } });
    await create(emu, valid);
    emu.reset();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(captured).toEqual([]);
    expect(emu.messages()).toEqual([]);
  });
});

describe("the Twilio emulator's faults and control routes", () => {
  it("injects a 503 that commits nothing, and an answer lost after commit", async () => {
    const { emu } = emulator();
    emu.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "status", status: 503, times: 1 });
    expect((await create(emu, valid)).status).toBe(503);
    expect(emu.messages()).toHaveLength(0);
    emu.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "lost", times: 1 });
    expect((await create(emu, valid)).status).toBe(500);
    expect(emu.messages()).toHaveLength(1);
    expect((await create(emu, valid)).status).toBe(201);
    expect(emu.messages()).toHaveLength(2);
  });

  it("drives the emulator over /_emu without credentials", async () => {
    const { emu, captured } = emulator();
    const emuFetch = async (method: string, path: string, body?: unknown) => {
      const res = await emu.app.fetch(new Request(`https://twilio.test/_emu${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }));
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    expect(await emuFetch("POST", "/faults", { rules: [{ path: "/Messages\\.json$", kind: "status", status: 503, times: 1 }] })).toMatchObject({ status: 200 });
    expect((await create(emu, valid)).status).toBe(503);
    await emuFetch("DELETE", "/faults");
    await create(emu, valid);
    const sid = emu.messages()[0]!.sid;
    expect(await emuFetch("GET", "/messages")).toMatchObject({ json: [{ sid, to: valid.To }] });
    // One sender's, and only their arrival times (the benches' polling).
    expect(await emuFetch("GET", `/messages?from=${encodeURIComponent(valid.From)}&only=receivedAt`)).toEqual({ status: 200, json: [emu.messages()[0]!.receivedAt] });
    expect(await emuFetch("GET", "/messages?from=%2B15550000000")).toEqual({ status: 200, json: [] });
    expect(await emuFetch("POST", `/status/${sid}`, { status: "delivered" })).toEqual({ status: 200, json: { http: 200 } });
    expect((await emuFetch("POST", `/status/${sid}`, { status: "teleported" })).status).toBe(400);
    expect((await emuFetch("POST", `/status/SM${"0".repeat(32)}`, { status: "sent" })).status).toBe(404);
    expect(await emuFetch("POST", "/inbound", { from: valid.To, to: valid.From, body: "hello" })).toMatchObject({ status: 200, json: { status: 200 } });
    expect((await emuFetch("POST", "/inbound", { from: valid.To })).status).toBe(400);
    expect(captured.map((r) => new URL(r.url).pathname)).toEqual(["/twilio/status", "/twilio/inbound"]);
    await emuFetch("POST", `/unsubscribe/${encodeURIComponent("+14155550123")}`);
    expect(await (await create(emu, { ...valid, To: "+14155550123" })).json()).toMatchObject({ code: 21610 });
    expect((await emuFetch("POST", `/outcome/${valid.To}`, { status: "failed", errorCode: 30008 })).status).toBe(200);
    await emuFetch("POST", "/reset");
    expect(emu.messages()).toEqual([]);
    expect((await create(emu, { ...valid, To: "+14155550123" })).status).toBe(201);
  });
});

describe("the Twilio emulator's MMS media, handed out as Twilio does", () => {
  // A 1×1 PNG.
  const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
  const pngBytes = Uint8Array.from(atob(PNG), (ch) => ch.charCodeAt(0));
  const control = (emu: Emu, path: string, body: unknown) =>
    emu.app.fetch(new Request(`https://twilio.test/_emu${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  const upload = async (emu: Emu, body: unknown) => (await (await control(emu, "/media", body)).json()) as { sid: string; url: string; contentType: string; size: number };
  const fetchAs = (emu: Emu, url: string, auth?: string) => emu.app.fetch(new Request(url, auth ? { headers: { authorization: auth } } : {}));
  const MEDIA_URL = new RegExp(`^https://twilio\\.test/2010-04-01/Accounts/${ACCOUNT}/Messages/MM[0-9a-f]{32}/Media/ME[0-9a-f]{32}$`);

  it("answers a MediaUrl only with the account's credentials, then redirects to the CDN, which serves the bytes without them", async () => {
    const { emu } = emulator();
    const res = await control(emu, "/media", { contentType: "image/png", base64: PNG });
    expect(res.status).toBe(201);
    const media = (await res.json()) as { sid: string; url: string };
    expect(media.sid).toMatch(/^ME[0-9a-f]{32}$/);
    expect(media.url).toMatch(MEDIA_URL);
    expect(media.url.endsWith(`/Media/${media.sid}`)).toBe(true);

    for (const auth of [undefined, basic(ACCOUNT, "nope"), basic(KEY, "nope")]) {
      const refused = await fetchAs(emu, media.url, auth);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 });
    }
    for (const auth of [basic(), basic(KEY, "key-secret")]) {
      const redirect = await fetchAs(emu, media.url, auth);
      expect(redirect.status).toBe(307);
      expect(redirect.headers.get("location")).toBe(`https://twilio.test/_emu/cdn/${media.sid}`);
    }

    const cdn = await fetchAs(emu, `https://twilio.test/_emu/cdn/${media.sid}`);
    expect(cdn.status).toBe(200);
    expect(cdn.headers.get("content-type")).toBe("image/png");
    expect(cdn.headers.get("content-length")).toBe(String(pngBytes.byteLength));
    expect(new Uint8Array(await cdn.arrayBuffer())).toEqual(pngBytes);
  });

  it("makes synthetic bytes of a given size, files an item under a given message, and 404s what it does not have", async () => {
    const { emu } = emulator();
    const big = await upload(emu, { contentType: "video/mp4", size: 6 * 1024 * 1024 });
    const cdn = await fetchAs(emu, (await fetchAs(emu, big.url, basic())).headers.get("location")!);
    expect(cdn.headers.get("content-length")).toBe(String(6 * 1024 * 1024));
    expect((await cdn.arrayBuffer()).byteLength).toBe(6 * 1024 * 1024);

    const messageSid = `MM${"c".repeat(32)}`;
    const filed = await upload(emu, { contentType: "image/png", base64: PNG, messageSid });
    expect(filed.url).toBe(`https://twilio.test/2010-04-01/Accounts/${ACCOUNT}/Messages/${messageSid}/Media/${filed.sid}`);

    for (const url of [filed.url.replace(filed.sid, `ME${"0".repeat(32)}`), filed.url.replace(messageSid, `MM${"d".repeat(32)}`)]) {
      const res = await fetchAs(emu, url, basic());
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
    }
    expect((await fetchAs(emu, `https://twilio.test/_emu/cdn/ME${"0".repeat(32)}`)).status).toBe(404);
    emu.reset();
    expect((await fetchAs(emu, filed.url, basic())).status).toBe(404);
  });

  it.each([
    ["neither base64 nor size", { contentType: "image/png" }],
    ["both base64 and size", { contentType: "image/png", base64: PNG, size: 10 }],
    ["a data: URL instead of base64", { contentType: "image/png", base64: `data:image/png;base64,${PNG}` }],
    ["a content type that is not a MIME type", { contentType: "png", base64: PNG }],
    ["a message SID that is not one", { contentType: "image/png", base64: PNG, messageSid: "MM1" }],
  ])("refuses a media upload with %s", async (_name, body) => {
    const { emu } = emulator();
    const res = await control(emu, "/media", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });

  it("sends an inbound MMS whose MediaUrl fields name items filed under its MessageSid", async () => {
    const { emu, captured } = emulator();
    const earlier = await upload(emu, { contentType: "image/gif", size: 12 });
    const res = await control(emu, "/inbound", {
      from: "+14155550100",
      to: "+15550001000",
      body: "the damaged box",
      media: [{ contentType: "image/png", base64: PNG }, { url: "https://m.example/a.jpg", contentType: "image/jpeg" }],
      mediaUrls: [earlier.url, "https://elsewhere.example/x"],
    });
    expect(res.status).toBe(200);
    const { sid } = (await res.json()) as { sid: string };
    expect(sid).toMatch(/^MM[0-9a-f]{32}$/);
    const form = await formOf(captured[0]!);
    expect(form).toMatchObject({
      MessageSid: sid,
      NumMedia: "4",
      MediaContentType0: "image/png",
      MediaUrl1: "https://m.example/a.jpg",
      MediaContentType1: "image/jpeg",
      MediaUrl2: earlier.url,
      MediaContentType2: "image/gif",
      MediaUrl3: "https://elsewhere.example/x",
      MediaContentType3: "application/octet-stream",
    });
    expect(form.MediaUrl0).toMatch(MEDIA_URL);
    expect(form.MediaUrl0).toContain(`/Messages/${sid}/Media/`);
    expect(await accepted(captured[0]!)).toBe(true);
    const cdn = await fetchAs(emu, (await fetchAs(emu, form.MediaUrl0!, basic())).headers.get("location")!);
    expect(new Uint8Array(await cdn.arrayBuffer())).toEqual(pngBytes);
  });

  it("hands media out on apiBaseUrl when set, whatever address the control request came to", async () => {
    const { emu, captured } = emulator({ apiBaseUrl: "http://127.0.0.1:8788/" });
    const media = await upload(emu, { contentType: "image/png", base64: PNG });
    expect(media.url.startsWith(`http://127.0.0.1:8788/2010-04-01/Accounts/${ACCOUNT}/Messages/`)).toBe(true);
    expect((await fetchAs(emu, media.url.replace("http://127.0.0.1:8788", "https://twilio.test"), basic())).headers.get("location")).toBe(`http://127.0.0.1:8788/_emu/cdn/${media.sid}`);
    await emu.sendInbound({ from: "+14155550100", to: "+15550001000", body: "", media: [{ contentType: "image/png", base64: PNG }] });
    expect((await formOf(captured[0]!)).MediaUrl0).toMatch(/^http:\/\/127\.0\.0\.1:8788\/2010-04-01\//);
  });

  it("is fetched by the bridge's own media client: credentials to Twilio, the CDN hop, and the 5 MB refusal", async () => {
    const config = requireConfig(TEST_BINDINGS);
    const { emu } = emulator({ accountSid: TEST_BINDINGS.TWILIO_ACCOUNT_SID, authToken: TEST_BINDINGS.TWILIO_AUTH_TOKEN });
    const seen: string[] = [];
    network.use(
      serveOrigin(TEST_BINDINGS.TWILIO_API_BASE, (request) => {
        seen.push(`${new URL(request.url).pathname.split("/").slice(-2)[0]} ${request.headers.has("authorization")}`);
        return emu.app.fetch(request);
      }),
    );
    const png = await upload(emu, { contentType: "image/png", base64: PNG });
    expect(await fetchTwilioMedia(config, png.url)).toEqual({ bytes: pngBytes, contentType: "image/png" });
    expect(seen).toEqual(["Media true", "cdn true"]);
    const tooBig = await upload(emu, { contentType: "video/mp4", size: MAX_MEDIA_BYTES + 1 });
    await expect(fetchTwilioMedia(config, tooBig.url)).rejects.toMatchObject({ code: "media_too_large" });
  });
});
