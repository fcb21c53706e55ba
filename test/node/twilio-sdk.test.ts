import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTwilioEmulator } from "../../emulators/twilio/app";

/**
 * Twilio's own Node client, pointed at the emulator over real HTTP: if the SDK can create, fetch
 * and list (page by page) messages through it, the emulator speaks the Messages API the way
 * Twilio's clients expect.
 */
const ACCOUNT = `AC${"4".repeat(32)}`;
const TOKEN = "sdk-token";
const KEY = `SK${"5".repeat(32)}`;
const KEY_SECRET = "sdk-key-secret";
const emulator = createTwilioEmulator({ accountSid: ACCOUNT, authToken: TOKEN, apiKeys: { [KEY]: KEY_SECRET } });
let server: ServerType;
let origin: string;

beforeAll(async () => {
  server = serve({ fetch: emulator.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => emulator.reset());

/**
 * The SDK's own HTTP client (the `httpClient` option is its supported extension point) with
 * api.twilio.com swapped for the emulator; everything else — auth, form encoding, paging,
 * error mapping — is the SDK's.
 */
class EmulatorClient extends twilio.RequestClient {
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace(/^https:\/\/api\.twilio\.com/, origin) });
  }
}
const client = (user = ACCOUNT, secret = TOKEN) => twilio(user, secret, { accountSid: ACCOUNT, httpClient: new EmulatorClient() });

describe("the Twilio emulator, driven by the official twilio package", () => {
  it("creates, fetches and lists messages the way the SDK expects", async () => {
    const created = await client().messages.create({ to: "+14155550100", from: "+15550001000", body: "from the SDK", statusCallback: "https://bridge.example/twilio/status" });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created).toMatchObject({ accountSid: ACCOUNT, status: "queued", numSegments: "1", direction: "outbound-api", errorCode: null });
    expect(created.dateCreated.getTime()).not.toBeNaN();

    const fetched = await client().messages(created.sid).fetch();
    expect(fetched).toMatchObject({ sid: created.sid, body: "from the SDK", to: "+14155550100" });

    await client().messages.create({ to: "+14155550199", from: "+15550001000", body: "someone else" });
    // dateSentAfter goes out as DateSent> with an ISO 8601 time.
    const listed = await client().messages.list({ to: "+14155550100", dateSentAfter: new Date(Date.now() - 60_000) });
    expect(listed.map((m) => m.sid)).toEqual([created.sid]);
    expect(await client().messages.list({ to: "+14155550100", dateSentAfter: new Date(Date.now() + 3_600_000) })).toEqual([]);
  });

  it("pages through a list by following next_page_uri", async () => {
    for (let i = 0; i < 5; i++) await client().messages.create({ to: "+14155550100", from: "+15550001000", body: `m${i}` });
    const listed = await client().messages.list({ to: "+14155550100", pageSize: 2 });
    expect(listed.map((m) => m.body)).toEqual(["m4", "m3", "m2", "m1", "m0"]);
    const page = await client().messages.page({ pageSize: 2 });
    expect(page.instances).toHaveLength(2);
    expect(page.nextPageUrl).toMatch(/PageToken=PASM/);
  });

  it("sends with an API key, a Messaging Service and several media URLs", async () => {
    const service = `MG${"6".repeat(32)}`;
    const created = await client(KEY, KEY_SECRET).messages.create({ to: "+14155550100", messagingServiceSid: service, mediaUrl: ["https://m.example/1.jpg", "https://m.example/2.jpg"] });
    expect(created).toMatchObject({ status: "accepted", messagingServiceSid: service, numMedia: "2" });
    expect(emulator.messages()[0]!.media_urls).toEqual(["https://m.example/1.jpg", "https://m.example/2.jpg"]);
  });

  it("surfaces the emulator's errors as the SDK's RestException", async () => {
    await expect(client().messages.create({ to: "not-a-number", from: "+15550001000", body: "x" })).rejects.toMatchObject({
      status: 400,
      code: 21211,
      moreInfo: "https://www.twilio.com/docs/errors/21211",
    });
    await expect(client().messages(`SM${"0".repeat(32)}`).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(client(ACCOUNT, "wrong").messages.list({ limit: 1 })).rejects.toMatchObject({ status: 401, code: 20003 });
  });
});
