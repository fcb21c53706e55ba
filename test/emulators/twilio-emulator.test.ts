import { describe, expect, it } from "vitest";
import { checkSignature, parseForm } from "../../src/adapters/twilio/signature";
import { createTwilioEmulator } from "../../emulators/twilio/app";
import { openapi } from "../../emulators/twilio/openapi-subset";

const ACCOUNT = `AC${"1".repeat(32)}`;
const TOKEN = "emulator-token";
const KEY = `SK${"2".repeat(32)}`;
const base = `https://twilio.test/2010-04-01/Accounts/${ACCOUNT}`;

function emulator() {
  const captured: Request[] = [];
  const emu = createTwilioEmulator({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    apiKeys: { [KEY]: "key-secret" },
    bridgeUrl: "https://bridge.example",
    fetch: async (input, init) => {
      captured.push(new Request(input as RequestInfo, init));
      return new Response("<Response/>", { status: 200 });
    },
  });
  return { emu, captured };
}

const basic = (user = ACCOUNT, secret = TOKEN) => `Basic ${btoa(`${user}:${secret}`)}`;
function create(emu: ReturnType<typeof emulator>["emu"], fields: Record<string, string> | URLSearchParams, auth = basic(), url = `${base}/Messages.json`) {
  return emu.app.fetch(
    new Request(url, { method: "POST", headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) }),
  );
}
const valid = { To: "+14155550100", From: "+15550001000", Body: "hi", StatusCallback: "https://bridge.example/twilio/status" };

describe("the Twilio emulator, against Twilio's OpenAPI description", () => {
  it.each([
    ["the account's auth token", basic()],
    ["an API key", basic(KEY, "key-secret")],
  ])("creates a message with %s and answers exactly the OpenAPI message properties", async (_name, auth) => {
    const { emu } = emulator();
    const res = await create(emu, valid, auth);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(openapi.message).sort());
    expect(body).toMatchObject({ to: "+14155550100", from: "+15550001000", status: "queued", num_segments: "1", direction: "outbound-api" });
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(openapi.statuses).toContain(body.status);
  });

  it.each([
    ["a wrong token", basic(ACCOUNT, "nope"), `${base}/Messages.json`],
    ["another account in the path", basic(), `https://twilio.test/2010-04-01/Accounts/AC${"3".repeat(32)}/Messages.json`],
    ["no credentials", "", `${base}/Messages.json`],
  ])("refuses %s with 401 and Twilio's error 20003", async (_name, auth, url) => {
    const { emu } = emulator();
    const res = await create(emu, valid, auth, url);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 20003, status: 401 });
  });

  it.each([
    ["no To", { From: "+15550001000", Body: "x" }, 21604],
    ["a To that is not E.164", { ...valid, To: "4155550100" }, 21211],
    ["no From and no MessagingServiceSid", { To: "+14155550100", Body: "x" }, 21603],
    ["no Body, MediaUrl or ContentSid", { To: "+14155550100", From: "+15550001000" }, 21602],
    ["a body over 1600 characters", { ...valid, Body: "x".repeat(1601) }, 21617],
    ["a field the API does not have", { ...valid, Bodyy: "typo" }, 20001],
    ["a malformed MessagingServiceSid", { To: "+14155550100", MessagingServiceSid: "MG1", Body: "x" }, 21701],
  ])("refuses %s with 400 and code %i", async (_name, fields, code) => {
    const { emu } = emulator();
    const res = await create(emu, fields as Record<string, string>);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code, status: 400 });
    expect(emu.messages()).toEqual([]);
  });

  it("refuses an unsubscribed recipient with 21610", async () => {
    const { emu } = emulator();
    emu.unsubscribe(valid.To);
    const res = await create(emu, valid);
    expect(await res.json()).toMatchObject({ code: 21610 });
  });

  it("accepts repeated MediaUrl and a Messaging Service", async () => {
    const { emu } = emulator();
    const form = new URLSearchParams({ To: valid.To, MessagingServiceSid: `MG${"a".repeat(32)}` });
    form.append("MediaUrl", "https://m.example/1.jpg");
    form.append("MediaUrl", "https://m.example/2.jpg");
    const body = (await (await create(emu, form)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "accepted", num_media: "2", messaging_service_sid: `MG${"a".repeat(32)}` });
  });

  it("fetches by SID, lists with To/From/DateSent>= filters, pages, and answers 404 in Twilio's format", async () => {
    const { emu } = emulator();
    for (let i = 0; i < 5; i++) await create(emu, { ...valid, Body: `m${i}` });
    await create(emu, { ...valid, To: "+14155550199" });
    const sid = emu.messages()[0]!.sid;
    const one = await emu.app.fetch(new Request(`${base}/Messages/${sid}.json`, { headers: { authorization: basic() } }));
    expect(await one.json()).toMatchObject({ sid, body: "m0" });

    const today = new Date().toISOString().slice(0, 10);
    const list = async (query: string) => {
      const res = await emu.app.fetch(new Request(`${base}/Messages.json?${query}`, { headers: { authorization: basic() } }));
      return (await res.json()) as { messages: { body: string }[]; next_page_uri: string | null } & Record<string, unknown>;
    };
    const page = await list(`To=%2B14155550100&From=%2B15550001000&DateSent%3E=${today}&PageSize=2`);
    expect(Object.keys(page).sort()).toEqual([...openapi.page].sort());
    expect(page.messages.map((m) => m.body)).toEqual(["m4", "m3"]);
    const next = await emu.app.fetch(new Request(`https://twilio.test${page.next_page_uri}`, { headers: { authorization: basic() } }));
    expect(((await next.json()) as { messages: { body: string }[] }).messages.map((m) => m.body)).toEqual(["m2", "m1"]);
    expect((await list("DateSent%3E=2999-01-01")).messages).toEqual([]);
    expect((await list(`DateSent=${today}&To=%2B14155550199`)).messages).toHaveLength(1);

    const unknownQuery = await emu.app.fetch(new Request(`${base}/Messages.json?Recipient=x`, { headers: { authorization: basic() } }));
    expect(unknownQuery.status).toBe(400);
    const missing = await emu.app.fetch(new Request(`${base}/Messages/SM${"0".repeat(32)}.json`, { headers: { authorization: basic() } }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 20404 });
  });

  it("signs inbound webhooks and status callbacks so that the bridge's check accepts them", async () => {
    const { emu, captured } = emulator();
    await emu.sendInbound({ from: "+14155550100", to: "+15550001000", body: "héllo +&= 👋", media: [{ url: "https://m.example/a.png", contentType: "image/png" }] });
    await create(emu, valid);
    await emu.sendStatus(emu.messages()[0]!.sid, "delivered");
    await emu.sendStatus(emu.messages()[0]!.sid, "undelivered", 30003);
    expect(captured.map((r) => new URL(r.url).pathname)).toEqual(["/twilio/inbound", "/twilio/status", "/twilio/status"]);
    for (const request of captured) {
      const raw = await request.clone().text();
      const check = await checkSignature([TOKEN], request.headers.get("x-twilio-signature"), request.url, parseForm(raw));
      expect(check.valid).toBe(true);
      expect((await checkSignature(["other-token"], request.headers.get("x-twilio-signature"), request.url, parseForm(raw))).valid).toBe(false);
    }
    const inbound = Object.fromEntries(new URLSearchParams(await captured[0]!.text()));
    expect(inbound).toMatchObject({ AccountSid: ACCOUNT, From: "+14155550100", To: "+15550001000", Body: "héllo +&= 👋", NumMedia: "1", MediaUrl0: "https://m.example/a.png", MediaContentType0: "image/png", ApiVersion: "2010-04-01", SmsStatus: "received" });
    expect(inbound.MessageSid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(Object.fromEntries(new URLSearchParams(await captured[2]!.text()))).toMatchObject({ MessageStatus: "undelivered", ErrorCode: "30003" });
  });

  it("injects faults: a 503 that commits nothing, and an answer lost after commit", async () => {
    const { emu } = emulator();
    emu.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "status", status: 503, times: 1 });
    expect((await create(emu, valid)).status).toBe(503);
    expect(emu.messages()).toHaveLength(0);
    emu.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "lost", times: 1 });
    expect((await create(emu, valid)).status).toBe(500);
    expect(emu.messages()).toHaveLength(1);
    expect((await create(emu, valid)).status).toBe(201);
  });
});
