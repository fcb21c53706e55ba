import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTwilioEmulator } from "../../emulators/twilio/app";

/**
 * Twilio's own Node client, pointed at the emulator: if the SDK can create, fetch and list
 * messages through it, the emulator speaks Twilio's Messages API as its clients expect.
 */
const ACCOUNT = `AC${"4".repeat(32)}`;
const TOKEN = "sdk-token";
let server: ServerType;
let origin: string;
const emulator = createTwilioEmulator({ accountSid: ACCOUNT, authToken: TOKEN });

beforeAll(async () => {
  server = serve({ fetch: emulator.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The SDK's own HTTP client, with api.twilio.com rewritten to the emulator. */
class EmulatorClient extends twilio.RequestClient {
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace("https://api.twilio.com", origin) });
  }
}

describe("the Twilio emulator, driven by the official twilio package", () => {
  const client = () => twilio(ACCOUNT, TOKEN, { httpClient: new EmulatorClient() });

  it("creates, fetches and lists messages the way the SDK expects", async () => {
    const created = await client().messages.create({ to: "+14155550100", from: "+15550001000", body: "from the SDK", statusCallback: "https://bridge.example/twilio/status" });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created.status).toBe("queued");
    expect(created.numSegments).toBe("1");
    expect(created.dateCreated).toBeInstanceOf(Date);

    const fetched = await client().messages(created.sid).fetch();
    expect(fetched.body).toBe("from the SDK");

    await client().messages.create({ to: "+14155550199", from: "+15550001000", body: "someone else" });
    const listed = await client().messages.list({ to: "+14155550100", dateSentAfter: new Date(Date.now() - 86_400_000) });
    expect(listed.map((m) => m.sid)).toEqual([created.sid]);
  });

  it("surfaces the emulator's validation errors as the SDK's RestException", async () => {
    await expect(client().messages.create({ to: "not-a-number", from: "+15550001000", body: "x" })).rejects.toMatchObject({ status: 400, code: 21211 });
    await expect(twilio(ACCOUNT, "wrong", { httpClient: new EmulatorClient() }).messages.list({ limit: 1 })).rejects.toMatchObject({ status: 401, code: 20003 });
  });
});
