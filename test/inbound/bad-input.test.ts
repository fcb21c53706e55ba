import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { signRequest } from "../../src/adapters/twilio/signature";
import { sha256Hex } from "../../src/crypto";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, postInbound, postTwilio } from "../support/inbound";

const emu = useEmulators();

const without = (key: string) => {
  const fields = inboundFields();
  delete fields[key];
  return fields;
};

/** [case, request, expected status, the field or code the error must name] */
const cases: [string, () => Promise<Response>, number, string][] = [
  ["missing MessageSid", () => postInbound(without("MessageSid")), 400, "MessageSid"],
  ["missing From", () => postInbound(without("From")), 400, "From"],
  ["missing To", () => postInbound(without("To")), 400, "To"],
  ["a malformed MessageSid", () => postInbound(inboundFields({ MessageSid: "SM123" })), 400, "MessageSid"],
  ["From without +", () => postInbound(inboundFields({ From: "14155551234" })), 400, "From"],
  ["From with spaces", () => postInbound(inboundFields({ From: "+1 415 555 1234" })), 400, "From"],
  ["From as a WhatsApp address", () => postInbound(inboundFields({ From: "whatsapp:+14155551234" })), 400, "From"],
  ["From too short", () => postInbound(inboundFields({ From: "+1234567" })), 400, "From"],
  ["From too long", () => postInbound(inboundFields({ From: "+1234567890123456" })), 400, "From"],
  ["From with a leading zero country code", () => postInbound(inboundFields({ From: "+0123456789" })), 400, "From"],
  ["To not E.164", () => postInbound(inboundFields({ To: "5550001000" })), 400, "To"],
  ["From repeated", () => postInbound(`${new URLSearchParams(inboundFields())}&From=%2B14155550000`), 400, "From: must appear once"],
  ["NumMedia without MediaUrl0", () => postInbound(inboundFields({ NumMedia: "1" })), 400, "MediaUrl0"],
  ["a MediaUrl that is not a URL", () => postInbound(inboundFields({ NumMedia: "1", MediaUrl0: "javascript:alert(1)" })), 400, "MediaUrl0"],
  ["NumMedia not a number", () => postInbound(inboundFields({ NumMedia: "lots" })), 400, "NumMedia"],
  ["a Body over 1600 characters", () => postInbound(inboundFields({ Body: "x".repeat(1601) })), 400, "Body"],
  ["a plain-text content type", () => postInbound(inboundFields(), { contentType: "text/plain" }), 415, "unsupported_media_type"],
  ["a multipart content type", () => postInbound(inboundFields(), { contentType: "multipart/form-data; boundary=x" }), 415, "unsupported_media_type"],
  ["a huge body", () => postInbound(inboundFields({ Body: "x".repeat(200_000) })), 413, "payload_too_large"],
  ["another Twilio account", () => postInbound(inboundFields({ AccountSid: `AC${"0".repeat(32)}` })), 403, "forbidden"],
  ["no AccountSid", () => postInbound(without("AccountSid")), 403, "forbidden"],
  ["JSON whose body does not match its bodySHA256", () => postJson('{"MessageSid":"x"}', "00"), 403, "forbidden"],
  ["malformed JSON under a valid bodySHA256 signature", () => postJson("{not json"), 400, "invalid_json"],
  ["a JSON array under a valid signature", () => postJson("[1,2]"), 400, "invalid_body"],
];

/** A JSON webhook signed the way Twilio signs JSON: over the URL with bodySHA256, no fields. */
async function postJson(raw: string, hash?: string) {
  const path = `/twilio/inbound?bodySHA256=${hash ?? (await sha256Hex(raw))}`;
  const signature = await signRequest(B.TWILIO_AUTH_TOKEN, `${B.PUBLIC_BASE_URL}${path}`, new Map());
  return postTwilio(path, raw, { contentType: "application/json", signature });
}

describe("hostile or broken inbound webhooks", () => {
  for (const [name, request, status, named] of cases) {
    it(`${name} → ${status} JSON, nothing stored, nothing sent`, async () => {
      const before = await d1Count("SELECT COUNT(*) AS n FROM messages");
      const res = await request();
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as { error: string; message: string };
      expect(typeof body.message).toBe("string");
      expect(`${body.error} ${body.message}`).toContain(named);
      expect(await d1Count("SELECT COUNT(*) AS n FROM messages")).toBe(before);
      expect(emu.cxone.state.calls).toEqual({});
      expect(emu.twilio.messages()).toEqual([]);
    });
  }

  it("answers other methods and paths with a JSON 404", async () => {
    const res = await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/twilio/inbound`));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });
});
