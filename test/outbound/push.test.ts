import { beforeEach, describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/crypto";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count } from "../support/inbound";
import { outboundItem, push as rawPush, pusher, settle, type PushAuth } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);

const stored = (id: string) => d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ?", id);

describe("POST /cxone/outbound authentication", () => {
  it.each<[string, PushAuth]>([
    ["a bearer token", "bearer"],
    ["an X-Signature-256 HMAC of the body", "hmac"],
  ])("accepts %s with 200 {status, messageId}", async (_name, auth) => {
    const item = outboundItem();
    const res = await push(item, auth);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "accepted", messageId: item.id });
    expect(await stored(item.id)).toBe(1);
    await settle();
  });

  const refused: [string, () => Promise<PushAuth>][] = [
    ["no credentials", async () => "none"],
    ["a wrong bearer token", async () => ({ bearer: "not-the-secret" })],
    ["a bearer token that is a prefix of the secret", async () => ({ bearer: B.CXONE_WEBHOOK_SECRET.slice(0, -1) })],
    ["an HMAC made with another secret", async () => ({ signature: `sha256=${await hmacSha256Hex("other", "{}")}` })],
    ["an HMAC of a different body", async () => ({ signature: `sha256=${await hmacSha256Hex(B.CXONE_WEBHOOK_SECRET, "{}")}` })],
    ["an HMAC without the sha256= prefix", async () => ({ signature: "deadbeef" })],
  ];
  for (const [name, auth] of refused) {
    it(`refuses ${name} with 401 and records nothing`, async () => {
      const item = outboundItem();
      const res = await rawPush(item, await auth());
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
      expect(await stored(item.id)).toBe(0);
    });
  }
});

describe("POST /cxone/outbound validation", () => {
  const cases: [string, unknown, string][] = [
    ["missing id", { ...outboundItem(), id: undefined }, "id"],
    ["missing conversationId", { ...outboundItem(), conversationId: undefined }, "conversationId"],
    ["missing to", { ...outboundItem(), to: undefined }, "to"],
    ["missing body", { ...outboundItem(), body: undefined }, "body"],
    ["a to without +", outboundItem({ to: "14155550100" }), "to"],
    ["a to with letters", outboundItem({ to: "+1415CALLNOW" }), "to"],
    ["a from that is neither a number nor a service", outboundItem({ from: "ACME" }), "from"],
    ["a direction other than OUTBOUND", { ...outboundItem(), direction: "INBOUND" }, "direction"],
    ["an attachment without a URL", outboundItem({ attachments: [{ url: "not a url" }] }), "attachments.0.url"],
    ["a createdTime that is not a timestamp", outboundItem({ createdTime: "yesterday" }), "createdTime"],
    ["a body over 1600 characters", outboundItem({ body: "x".repeat(1601) }), "body"],
    ["a JSON array", [outboundItem()], "expected object"],
  ];
  for (const [name, body, field] of cases) {
    it(`answers ${name} with 400 naming ${field}`, async () => {
      const res = await rawPush(body, "hmac");
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: string; message: string };
      expect(json.error).toBe("invalid_request");
      expect(json.message).toContain(field);
      expect(emu.twilio.messages()).toEqual([]);
    });
  }

  it("answers malformed JSON with 400", async () => {
    const res = await rawPush("{nope", "hmac");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_json" });
  });

  it("answers a non-JSON content type with 415", async () => {
    const res = await rawPush(outboundItem(), "bearer", "text/plain");
    expect(res.status).toBe(415);
  });
});
