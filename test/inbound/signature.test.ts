import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, postInbound, thread } from "../support/inbound";

const fixtures = inject("twilioFixtures");

const emu = useEmulators();

function send(pathAndQuery: string, contentType: string, rawBody: string, signature: string | null, target = exports.default) {
  const headers: Record<string, string> = { "content-type": contentType };
  if (signature !== null) headers["x-twilio-signature"] = signature;
  return target.fetch(new Request(`${B.PUBLIC_BASE_URL}${pathAndQuery}`, { method: "POST", headers, body: rawBody }));
}

const fieldsOf = (rawBody: string, contentType: string): Record<string, string> =>
  contentType === "application/json" ? JSON.parse(rawBody) : Object.fromEntries(new URLSearchParams(rawBody));
const sidOf = (rawBody: string, contentType: string) => fieldsOf(rawBody, contentType).MessageSid!;

/** Whether any thread a fixture's text would land in holds anything. */
async function heldAnywhere(): Promise<boolean> {
  for (const f of fixtures) {
    const fields = fieldsOf(f.rawBody, f.contentType);
    if ((await thread(fields.From!, fields.To!).status(fields.MessageSid)).message) return true;
  }
  return false;
}

describe("X-Twilio-Signature, checked against requests signed by the official twilio package", () => {
  it("has fixtures from the Node-side signer", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  const form = fixtures.find((f) => f.name === "plain ASCII body")!;
  const tampered: [string, () => Promise<Response>][] = [
    ["a field value changed", () => send(form.pathAndQuery, form.contentType, form.rawBody.replace("Hello", "Jello"), form.signature)],
    ["a field added", () => send(form.pathAndQuery, form.contentType, `${form.rawBody}&Extra=1`, form.signature)],
    ["a field removed", () => send(form.pathAndQuery, form.contentType, form.rawBody.replace(/&NumSegments=1/, ""), form.signature)],
    ["a query string added", () => send(`${form.pathAndQuery}?x=1`, form.contentType, form.rawBody, form.signature)],
    ["no signature header", () => send(form.pathAndQuery, form.contentType, form.rawBody, null)],
    ["an empty signature", () => send(form.pathAndQuery, form.contentType, form.rawBody, "")],
    ["a signature with the wrong token", async () => send(form.pathAndQuery, form.contentType, form.rawBody, await signRequest("not-the-token", `${B.PUBLIC_BASE_URL}/twilio/inbound`, parseForm(form.rawBody)))],
    ["a signature for another host", async () => send(form.pathAndQuery, form.contentType, form.rawBody, await signRequest(B.TWILIO_AUTH_TOKEN, "https://evil.test/twilio/inbound", parseForm(form.rawBody)))],
    ["the signature of another request", () => send(form.pathAndQuery, form.contentType, fixtures[1]!.rawBody, form.signature)],
  ];
  const json = fixtures.find((f) => f.contentType === "application/json")!;
  tampered.push(
    ["a JSON body changed under a valid bodySHA256 signature", () => send(json.pathAndQuery, json.contentType, json.rawBody.replace("Hello", "Jello"), json.signature)],
    ["a JSON body without bodySHA256", () => send("/twilio/inbound", json.contentType, json.rawBody, json.signature)],
  );

  for (const [name, request] of tampered) {
    it(`refuses ${name} with 403 and stores nothing`, async () => {
      const before = await d1Count("SELECT COUNT(*) AS n FROM messages");
      const res = await request();
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: "forbidden" });
      expect(await d1Count("SELECT COUNT(*) AS n FROM messages")).toBe(before);
      expect(await heldAnywhere()).toBe(false);
      expect(Object.keys(emu.cxone.state.calls)).toEqual([]);
    });
  }

  // After the refusals, so that their check that no thread holds a fixture's text can fail.
  for (const fixture of fixtures) {
    it(`accepts: ${fixture.name}`, async () => {
      const res = await send(fixture.pathAndQuery, fixture.contentType, fixture.rawBody, fixture.signature);
      expect(res.status, await res.clone().text()).toBe(200);
      const sid = sidOf(fixture.rawBody, fixture.contentType);
      const fields = fieldsOf(fixture.rawBody, fixture.contentType);
      // Durable in the customer's thread when Twilio gets its 200; in D1 once delivered.
      expect((await thread(fields.From!, fields.To!).status(sid)).message).toBeDefined();
      await thread(fields.From!, fields.To!).deliver();
      expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", sid)).toBe(1);
    });
  }

  it("accepts the secondary token during a rotation, and only when one is configured", async () => {
    const secondary = "rotating-secondary-token";
    const fields = inboundFields();
    const raw = new URLSearchParams(fields).toString();
    const signature = await signRequest(secondary, `${B.PUBLIC_BASE_URL}/twilio/inbound`, parseForm(raw));
    const request = () =>
      new Request(`${B.PUBLIC_BASE_URL}/twilio/inbound`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body: raw,
      });
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    expect((await worker.fetch(request(), env, ctx)).status).toBe(403);
    expect((await worker.fetch(request(), { ...env, TWILIO_AUTH_TOKEN_SECONDARY: secondary } as Env, ctx)).status).toBe(200);
    await thread(fields.From!).deliver();
  });

  it("refuses a correctly signed request for another Twilio account with 403", async () => {
    const res = await postInbound(inboundFields({ AccountSid: "AC" + "f".repeat(32) }));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "forbidden", message: "AccountSid does not match this bridge's Twilio account" });
  });
});
