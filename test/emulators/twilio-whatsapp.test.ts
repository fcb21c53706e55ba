import { describe, expect, it, vi } from "vitest";
import type { TwilioEmulatorOptions } from "../../emulators/twilio/app";
import { CAPTURE, capturingEmulator, formOf, signedFor } from "../support/twilio-capture";
import { twilioOpenApi } from "../../emulators/twilio/openapi-subset";

const { ACCOUNT, TOKEN } = CAPTURE;
const SERVICE = `MG${"a".repeat(32)}`;
const API = `https://twilio.test/2010-04-01/Accounts/${ACCOUNT}`;
const CUSTOMER = "whatsapp:+14155550100";
const BUSINESS = "whatsapp:+15550001000";
const CALLBACK = "https://bridge.example/twilio/status";
const FLIGHT = `HX${"0".repeat(31)}1`;
const VUELO = `HX${"0".repeat(31)}2`;
const HOUR = 3_600_000;
// Steps far enough apart that the callbacks of one message arrive in order even on a loaded machine.
const STEP = 15;
const freeText = { To: CUSTOMER, From: BUSINESS, Body: "hi", StatusCallback: CALLBACK };
const template = (variables: unknown, ContentSid = FLIGHT) => ({ To: CUSTOMER, From: BUSINESS, ContentSid, ContentVariables: typeof variables === "string" ? variables : JSON.stringify(variables), StatusCallback: CALLBACK });

/** A capturing emulator with the calls these tests make of it. */
function emulator(options: Partial<TwilioEmulatorOptions> = {}) {
  const { emu, captured } = capturingEmulator(options);
  const create = async (fields: Record<string, string>) => {
    const res = await emu.app.fetch(
      new Request(`${API}/Messages.json`, { method: "POST", headers: { authorization: `Basic ${btoa(`${ACCOUNT}:${TOKEN}`)}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) }),
    );
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const control = async (path: string, body?: unknown) => {
    const res = await emu.app.fetch(new Request(`https://twilio.test/_emu${path}`, { method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }));
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** The callbacks seen so far for one message: [MessageStatus, ErrorCode] in arrival order. */
  const callbacks = async (sid: unknown) => (await Promise.all(captured.map(formOf))).filter((f) => f.MessageSid === sid).map((f) => [f.MessageStatus, f.ErrorCode]);
  const openWindow = () => control("/inbound", { from: CUSTOMER, to: BUSINESS, body: "hello" });
  return { emu, captured, create, control, callbacks, openWindow };
}

describe("the Twilio emulator's WhatsApp addresses", () => {
  it("sends whatsapp:+E164 to whatsapp:+E164 as one segment whatever its length, and lists by those addresses", async () => {
    const { emu, create } = emulator();
    const sent = await create({ ...freeText, Body: "x".repeat(1000) });
    expect(sent.status).toBe(201);
    expect(sent.json).toMatchObject({ to: CUSTOMER, from: BUSINESS, num_segments: "1", status: "queued" });
    expect(Object.keys(sent.json).sort()).toEqual(Object.keys(twilioOpenApi.message).sort());
    // The same numbers on SMS are another conversation.
    expect((await create({ To: "+14155550100", From: "+15550001000", Body: "x".repeat(1000) })).json).toMatchObject({ num_segments: "7" });
    expect((await create({ To: "whatsapp:+14155550199", From: BUSINESS, Body: "other" })).status).toBe(201);

    const res = await emu.app.fetch(new Request(`${API}/Messages.json?To=whatsapp%3A%2B14155550100&From=whatsapp%3A%2B15550001000`, { headers: { authorization: `Basic ${btoa(`${ACCOUNT}:${TOKEN}`)}` } }));
    expect(res.status).toBe(200);
    const page = (await res.json()) as { messages: { sid: string }[] };
    expect(page.messages.map((m) => m.sid)).toEqual([sent.json.sid]);
  });

  it.each([
    ["a WhatsApp body over 1600 characters", { ...freeText, Body: "x".repeat(1601) }, 21617],
    ["a whatsapp: To without +", { ...freeText, To: "whatsapp:14155550100" }, 21211],
    ["a whatsapp: To with a leading 0", { ...freeText, To: "whatsapp:+04155550100" }, 21211],
    ["a whatsapp: From that is a short code", { ...freeText, From: "whatsapp:12345" }, 21212],
    ["From whatsapp: to an SMS number", { ...freeText, To: "+14155550100" }, 63007],
    ["From an SMS number to whatsapp:", { ...freeText, From: "+15550001000" }, 63007],
  ])("refuses %s with code %i and creates nothing", async (_name, fields, code) => {
    const { emu, create } = emulator();
    expect(await create(fields)).toMatchObject({ status: 400, json: { code, status: 400 } });
    expect(emu.messages()).toEqual([]);
  });

  it("sends a Messaging Service's WhatsApp message from the WhatsApp sender of its pool", async () => {
    const { create } = emulator();
    const sent = await create({ To: CUSTOMER, MessagingServiceSid: SERVICE, ContentSid: FLIGHT, ContentVariables: '{"1":"BA42","2":"17:05"}' });
    expect(sent).toMatchObject({ status: 201, json: { from: "whatsapp:+15005550006", status: "accepted" } });
  });
});

describe("the Twilio emulator's WhatsApp templates", () => {
  it("renders a known template and records its Content SID and variables, outside the resource", async () => {
    const { emu, create, control } = emulator();
    const sent = await create(template({ 1: "IB 3170", 2: "18:45" }, VUELO));
    expect(sent).toMatchObject({ status: 201, json: { body: "Vuelo IB 3170 retrasado. Nueva salida: 18:45.", num_segments: "1" } });
    expect(sent.json).not.toHaveProperty("content_sid");
    const listed = (await control("/messages")).json as unknown as Record<string, unknown>[];
    expect(listed).toMatchObject([{ sid: sent.json.sid, content_sid: VUELO, content_variables: { 1: "IB 3170", 2: "18:45" } }]);
    // A free-text send records no template.
    emu.setWhatsAppWindow(CUSTOMER, BUSINESS, Date.now());
    await create(freeText);
    expect(emu.messages()[1]).toMatchObject({ body: "hi", content_sid: null, content_variables: null });
  });

  it("uses the whatsappTemplates option instead of the dev templates", async () => {
    const custom = `HX${"a".repeat(32)}`;
    const { create } = emulator({ whatsappTemplates: { [custom]: "Gate {{gate}} for {{1}}" } });
    expect((await create(template({ gate: "B7", 1: "LH 400" }, custom))).json).toMatchObject({ body: "Gate B7 for LH 400" });
    expect((await create(template({ 1: "a", 2: "b" }, FLIGHT))).json).toMatchObject({ code: 21655 });
  });

  it.each<[string, Record<string, string>, number]>([
    ["an unknown ContentSid", template({ 1: "a", 2: "b" }, `HX${"f".repeat(32)}`), 21655],
    ["a malformed ContentSid", template({ 1: "a", 2: "b" }, "HX123"), 21655],
    ["ContentVariables that are not JSON", template("{1: a}"), 21656],
    ["ContentVariables that are an array", template(["a", "b"]), 21656],
    ["a variable that is not a string", template({ 1: "BA42", 2: 1705 }), 21656],
    ["a placeholder without a value", template({ 1: "BA42" }), 21656],
    ["a placeholder with an empty value", template({ 1: "BA42", 2: " " }), 21656],
    ["no ContentVariables for a template with placeholders", { To: CUSTOMER, From: BUSINESS, ContentSid: FLIGHT }, 21656],
    ["ContentVariables without a ContentSid", { ...freeText, ContentVariables: '{"1":"a"}' }, 21656],
    ["a ContentSid on an SMS send", { ...template({ 1: "a", 2: "b" }), To: "+14155550100", From: "+15550001000" }, 21656],
  ])("refuses %s with code %i", async (_name, fields, code) => {
    const { emu, create } = emulator();
    expect(await create(fields)).toMatchObject({ status: 400, json: { code } });
    expect(emu.messages()).toEqual([]);
  });
});

describe("the Twilio emulator's WhatsApp 24-hour window", () => {
  it("delivers free text after the customer's inbound, and fails it with 63016 where they never wrote to that sender", async () => {
    const { emu, create, callbacks, openWindow } = emulator({ autoStatus: { stepMs: STEP } });
    expect((await openWindow()).status).toBe(200);
    const inside = await create(freeText);
    // Another sender of the same business has no window with this customer.
    const elsewhere = await create({ ...freeText, From: "whatsapp:+15550009999" });
    expect(elsewhere).toMatchObject({ status: 201, json: { status: "queued", error_code: null } });
    await vi.waitFor(async () => expect(await callbacks(inside.json.sid)).toEqual([["sending", undefined], ["sent", undefined], ["delivered", undefined], ["read", undefined]]));
    expect(await callbacks(elsewhere.json.sid)).toEqual([["failed", "63016"]]);
    expect(emu.messages()[1]).toMatchObject({ status: "failed", error_code: 63016, error_message: expect.stringMatching(/^Failed to send freeform message because you are outside the allowed window/) });
    expect(emu.stats().outsideWindow).toBe(1);
  });

  it("places the window through POST /_emu/whatsapp/window: 23 h ago still open, 25 h ago or null closed", async () => {
    const { emu, create, control, callbacks } = emulator({ autoStatus: { stepMs: STEP } });
    const place = (lastInboundAt: number | null) => control("/whatsapp/window", { customer: CUSTOMER, business: BUSINESS, lastInboundAt });
    expect(await place(Date.now() - 23 * HOUR)).toMatchObject({ status: 200, json: { customer: CUSTOMER, business: BUSINESS, open: true } });
    const open = await create(freeText);
    expect(await place(Date.now() - 25 * HOUR)).toMatchObject({ json: { open: false } });
    const late = await create(freeText);
    await place(null);
    const never = await create(freeText);
    await vi.waitFor(async () => expect(await callbacks(open.json.sid)).toHaveLength(4));
    expect(await callbacks(late.json.sid)).toEqual([["failed", "63016"]]);
    expect(await callbacks(never.json.sid)).toEqual([["failed", "63016"]]);
    expect(emu.stats().outsideWindow).toBe(2);
    expect((await control("/stats")).json).toMatchObject({ outsideWindow: 2 });
    expect((await control("/whatsapp/window", { customer: "+14155550100", business: BUSINESS, lastInboundAt: null })).status).toBe(400);
  });

  it("fails free text outside the window right after creation without autoStatus: queued, then one failed callback", async () => {
    const { emu, create, callbacks } = emulator();
    const sent = await create(freeText);
    expect(sent.json).toMatchObject({ status: "queued", error_code: null });
    await vi.waitFor(async () => expect(await callbacks(sent.json.sid)).toEqual([["failed", "63016"]]));
    expect(emu.messages()[0]).toMatchObject({ status: "failed", error_code: 63016 });
  });

  it("delivers a template outside the window", async () => {
    const { emu, create, callbacks } = emulator({ autoStatus: { stepMs: STEP } });
    emu.setWhatsAppWindow(CUSTOMER, BUSINESS, Date.now() - 48 * HOUR);
    const sent = await create(template({ 1: "BA42", 2: "17:05" }));
    await vi.waitFor(async () => expect(await callbacks(sent.json.sid)).toEqual([["sending", undefined], ["sent", undefined], ["delivered", undefined], ["read", undefined]]));
    expect(emu.stats().outsideWindow).toBe(0);
  });
});

describe("the Twilio emulator's WhatsApp status callbacks", () => {
  it("sends read after delivered, with ChannelPrefix=whatsapp, signed for the StatusCallback's own query", async () => {
    const routed = `${CALLBACK}?object=conv-7&attempt=2`;
    const { emu, captured, create, callbacks, openWindow } = emulator({ autoStatus: { stepMs: STEP } });
    await openWindow();
    const sent = await create({ ...freeText, StatusCallback: routed });
    await vi.waitFor(async () => expect((await callbacks(sent.json.sid)).map(([s]) => s)).toEqual(["sending", "sent", "delivered", "read"]));
    const statusCallbacks = captured.filter((r) => r.url !== "https://bridge.example/twilio/inbound");
    for (const request of statusCallbacks) {
      expect(request.url).toBe(routed);
      expect(await signedFor(request)).toBe(true);
      expect(await signedFor(request, CALLBACK)).toBe(false);
      expect(await formOf(request)).toMatchObject({ ChannelPrefix: "whatsapp", To: CUSTOMER, From: BUSINESS, AccountSid: ACCOUNT });
    }
    expect(emu.messages()[0]!.status).toBe("read");
  });

  it("sends no read when the customer does not read it or it was not delivered, nor for SMS, which has no ChannelPrefix", async () => {
    const settle = () => new Promise((resolve) => setTimeout(resolve, 3 * STEP));
    const unread = emulator({ autoStatus: { stepMs: STEP }, whatsappReadShare: 0 });
    unread.emu.setWhatsAppWindow(CUSTOMER, BUSINESS, Date.now());
    const ignored = await unread.create(freeText);
    await vi.waitFor(async () => expect(await unread.callbacks(ignored.json.sid)).toHaveLength(3));
    await settle();
    expect((await unread.callbacks(ignored.json.sid)).map(([s]) => s)).toEqual(["sending", "sent", "delivered"]);

    const { emu, create, callbacks, captured } = emulator({ autoStatus: { stepMs: STEP } });
    emu.setWhatsAppWindow(CUSTOMER, BUSINESS, Date.now());
    emu.setOutcome(CUSTOMER, { status: "undelivered", errorCode: 63024 });
    const undelivered = await create(freeText);
    const sms = await create({ To: "+14155550100", From: "+15550001000", Body: "hi", StatusCallback: CALLBACK });
    await vi.waitFor(async () => expect(captured).toHaveLength(6));
    await settle();
    expect(await callbacks(undelivered.json.sid)).toEqual([["sending", undefined], ["sent", undefined], ["undelivered", "63024"]]);
    expect(await callbacks(sms.json.sid)).toEqual([["sending", undefined], ["sent", undefined], ["delivered", undefined]]);
    const forms = await Promise.all(captured.map(formOf));
    expect(forms.map((f) => [f.To, f.ChannelPrefix])).toEqual(expect.arrayContaining([[CUSTOMER, "whatsapp"], ["+14155550100", undefined]]));
    expect(forms.filter((f) => f.To === "+14155550100").every((f) => !("ChannelPrefix" in f))).toBe(true);
    expect(forms.filter((f) => f.To === CUSTOMER).every((f) => f.ChannelPrefix === "whatsapp")).toBe(true);
  });

  it("applies the callback faults to the read callback too, and takes read on POST /_emu/status/:sid", async () => {
    const { emu, create, callbacks } = emulator({ autoStatus: { stepMs: STEP }, callbackFaults: { duplicate: 1 } });
    emu.setWhatsAppWindow(CUSTOMER, BUSINESS, Date.now());
    const sent = await create(freeText);
    await vi.waitFor(async () => expect((await callbacks(sent.json.sid)).map(([s]) => s)).toEqual(["sending", "sending", "sent", "sent", "delivered", "delivered", "read", "read"]));
    expect(emu.stats().callbacks.duplicate).toBe(4);

    const { create: createManual, control: manual, callbacks: manualCallbacks } = emulator();
    const m = await createManual(template({ 1: "a", 2: "b" }));
    expect(await manual(`/status/${m.json.sid}`, { status: "read" })).toEqual({ status: 200, json: { http: 200 } });
    expect(await manualCallbacks(m.json.sid)).toEqual([["read", undefined]]);
  });
});

describe("the Twilio emulator's WhatsApp inbound webhook", () => {
  it("carries ProfileName, WaId, one segment and the extra fields, signed, and opens the window", async () => {
    const { emu, captured, control, create, callbacks } = emulator({ bridgeUrl: "http://localhost:8787", publicBaseUrl: "https://sms.example.com", autoStatus: { stepMs: STEP } });
    const extraFields = [["ButtonText", "Rebook me"], ["ButtonPayload", "rebook:BA42"], ["MessageType", "button"]];
    const res = await control("/inbound", { from: CUSTOMER, to: BUSINESS, body: "y".repeat(400), profileName: "Ana Pérez", extraFields });
    expect(res).toMatchObject({ status: 200, json: { status: 200 } });
    const [request] = captured;
    expect(request!.url).toBe("http://localhost:8787/twilio/inbound");
    expect(await signedFor(request!, "https://sms.example.com/twilio/inbound")).toBe(true);
    const form = await formOf(request!);
    expect(form).toMatchObject({ MessageSid: res.json.sid, From: CUSTOMER, To: BUSINESS, Body: "y".repeat(400), NumMedia: "0", NumSegments: "1", ProfileName: "Ana Pérez", WaId: "14155550100", ButtonText: "Rebook me", ButtonPayload: "rebook:BA42", MessageType: "button", AccountSid: ACCOUNT });
    expect(form).not.toHaveProperty("ToCountry");

    const sent = await create({ ...freeText, StatusCallback: "https://sms.example.com/twilio/status" });
    await vi.waitFor(async () => expect(await callbacks(sent.json.sid)).toHaveLength(4));
    expect(emu.stats().outsideWindow).toBe(0);
  });

  it("defaults ProfileName and types a location or media message, and refuses a cross-channel inbound", async () => {
    const { captured, control } = emulator();
    const location = [["Latitude", "51.47"], ["Longitude", "-0.45"], ["Address", "Heathrow T5"], ["Label", "Gate"], ["MessageType", "location"]];
    await control("/inbound", { from: CUSTOMER, to: BUSINESS, body: "", extraFields: location });
    await control("/inbound", { from: CUSTOMER, to: BUSINESS, body: "", media: [{ url: "https://m.example/p.jpg", contentType: "image/jpeg" }] });
    const [where, photo] = await Promise.all(captured.map(formOf));
    expect(where).toMatchObject({ ProfileName: "Emu Customer", WaId: "14155550100", Latitude: "51.47", Longitude: "-0.45", Address: "Heathrow T5", Label: "Gate", MessageType: "location" });
    expect(photo).toMatchObject({ NumMedia: "1", MediaUrl0: "https://m.example/p.jpg", MediaContentType0: "image/jpeg", MessageType: "image" });
    for (const request of captured) expect(await signedFor(request)).toBe(true);
    expect((await control("/inbound", { from: CUSTOMER, to: "+15550001000", body: "x" })).status).toBe(400);
    expect(captured).toHaveLength(2);
  });
});
