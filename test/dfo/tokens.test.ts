import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { requestDfoToken, tenantOf } from "../../src/adapters/cxone/dfo/token";
import { requireConfig } from "../../src/config";
import { DFO_BINDINGS as D } from "../support/bindings";
import { useDfoEmulators, worker } from "../support/dfo";
import { network, serveOrigin } from "../support/network";
import { inboundFields, phone, postInbound, thread } from "../support/inbound";

/** contract §8: the bridge as CXone's OAuth 2.0 server, and the bridge's own tokens towards CXone. */
const emu = useDfoEmulators();
const CHANNEL = "chat_main";
const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

async function token(init: RequestInit) {
  const res = await worker("/cxone/dfo/token", { method: "POST", ...init });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const json = (body: unknown, headers: Record<string, string> = {}) => ({ headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const reply = (authorization?: string) =>
  worker(`/cxone/dfo/2.0/channel/${CHANNEL}/outbound`, { method: "POST", ...json({ thread: { idOnExternalPlatform: phone() }, messageContent: { type: "TEXT", payload: { text: "hi" } } }, authorization ? { authorization } : {}) });

describe("the bridge's token endpoint", () => {
  const creds = { grant_type: "client_credentials", client_id: D.CXONE_BYOC_CLIENT_ID, client_secret: D.CXONE_BYOC_CLIENT_SECRET };

  it.each([
    ["a JSON body", json(creds)],
    ["a form body", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(creds).toString() }],
    ["HTTP Basic", { headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(D.CXONE_BYOC_CLIENT_ID, D.CXONE_BYOC_CLIENT_SECRET) }, body: "grant_type=client_credentials" }],
  ])("gives a bearer token for the BYOC credentials in %s, which the reply callback takes", async (_how, init) => {
    const answer = await token(init);
    expect(answer).toMatchObject({ status: 200, body: { token_type: "Bearer", expires_in: 3600, access_token: expect.any(String) } });
    expect((await reply(`Bearer ${answer.body.access_token}`)).status).toBe(200);
  });

  it.each([
    ["a wrong secret", { ...creds, client_secret: "nope" }, 401, "invalid_client"],
    ["another client", { ...creds, client_id: "someone-else" }, 401, "invalid_client"],
    ["no credentials", { grant_type: "client_credentials" }, 401, "invalid_client"],
    ["the password grant", { ...creds, grant_type: "password" }, 400, "unsupported_grant_type"],
    ["no grant at all", { client_id: creds.client_id, client_secret: creds.client_secret }, 400, "invalid_request"],
  ])("refuses %s", async (_name, body, status, error) => {
    expect(await token(json(body))).toMatchObject({ status, body: { error } });
  });

  it("is also served where every BYOC sample puts it ({Integration Box URL}/1.0/token)", async () => {
    const res = await worker("/cxone/dfo/1.0/token", { method: "POST", ...json(creds) });
    expect(res.status).toBe(200);
  });

  it("gives tokens that hold across a restart of everything and are refused after an hour", async () => {
    const { body } = await token(json(creds));
    await abortAllDurableObjects();
    expect((await reply(`Bearer ${body.access_token}`)).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3_601_000 });
    try {
      expect((await reply(`Bearer ${body.access_token}`)).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ["no token", undefined],
    ["a made-up token", "Bearer abc.def"],
    ["a tampered token", "TAMPER"],
    ["a token signed with another secret", "OTHER"],
  ])("answers a reply callback with %s 401, and CXone's retry with a token 200", async (_name, auth) => {
    let header = auth;
    if (auth === "TAMPER" || auth === "OTHER") {
      const { body } = await token(json(creds));
      const [payload, sig] = String(body.access_token).split(".");
      const forged = auth === "TAMPER" ? `${btoa(JSON.stringify({ cid: D.CXONE_BYOC_CLIENT_ID, exp: 9_999_999_999 })).replace(/=+$/, "")}.${sig}` : `${payload}.${"0".repeat(64)}`;
      header = `Bearer ${forged}`;
    }
    const res = await reply(header);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject({ error: "invalid_token" });
    // What CXone does next: the token endpoint, then the same call again.
    const result = await emu.dfo.agentReply({ channelId: CHANNEL, threadId: phone(), text: "after the dance" });
    expect(result).toMatchObject({ status: 200, tokenRequested: true });
  });
});

describe("the bridge's own token towards CXone", () => {
  it("uses the access key's password grant with the application as HTTP Basic, once for many calls", async () => {
    for (let i = 0; i < 3; i++) {
      const customer = phone();
      await postInbound(inboundFields({ From: customer }));
      await thread(customer).deliver();
    }
    expect(emu.dfo.stats().tokenRequests).toBeLessThanOrEqual(1);
  });

  it("refreshes once and retries when CXone revokes it", async () => {
    const customer = phone();
    await postInbound(inboundFields({ From: customer }));
    await thread(customer).deliver();
    const before = emu.dfo.stats().tokenRequests;
    emu.dfo.revokeTokens();
    const next = phone();
    await postInbound(inboundFields({ From: next }));
    const status = await thread(next).deliver();
    expect(status.pending).toBe(0);
    expect(emu.dfo.stats().tokenRequests).toBe(before + 1);
  });

  it("discovers the DFO origin from the id_token's tenant when CXONE_API_BASE is unset", async () => {
    const { CXONE_API_BASE: _unset, ...withoutBase } = D;
    const config = requireConfig(withoutBase, "dfo");
    const token = await requestDfoToken(config);
    expect(token.apiBase).toBe("https://api-de-na1.niceincontact.com");
    // And that origin is where DFO calls go.
    network.use(serveOrigin(token.apiBase!, (request) => emu.dfo.app.fetch(request)));
    const { dfoClient } = await import("../../src/adapters/cxone/dfo/client");
    const api = dfoClient(config, { get: async () => token, invalidate: async () => {} });
    const uploaded = await api.uploadAttachment(new TextEncoder().encode("hello"), "text/plain");
    expect(uploaded.url).toMatch(/^https:\/\/cxone\.test\/dfo\/files\//);
  });

  it("reads the tenant out of an id_token without verifying it", () => {
    const jwt = (claims: object) => `e30.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.sig`;
    expect(tenantOf(jwt({ tenantId: "t-1" }))).toBe("t-1");
    expect(tenantOf(jwt({ sub: "x" }))).toBeUndefined();
    expect(tenantOf("not a jwt")).toBeUndefined();
    expect(tenantOf(undefined)).toBeUndefined();
  });
});
