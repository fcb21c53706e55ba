import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTwilioEmulator } from "../../emulators/twilio/app";
import { DFO_BINDINGS as D } from "../support/bindings";
import { bridgeFetch } from "../support/emulators";
import { phone } from "../support/inbound";
import { network } from "../support/network";
import { settle } from "../support/outbound";
import { rowDelta, send, serveCounted, snapshot } from "../hostile/harness";
import {
  ACTION, b64url, CHANNEL, CREDS, expectUntouched, forge, inAnHour, issued, jsonError, lines, MAIN, mark, post, R1, R2, recorder, reply2, RIGHT_KEY, seen, state, TOKEN, useDfoHostile,
} from "./hostile-harness";

/**
 * contract §8, hostile tokens: the reply callbacks and sender actions take only a token the bridge's
 * own endpoint gave out, unexpired, to the BYOC client; anything else → 401 JSON with
 * `WWW-Authenticate: Bearer`, and — though every body here is a reply that would be sent —
 * nothing stored, queued or sent. The token endpoint: 400/401 per RFC 6749, storing nothing.
 */
useDfoHostile();
afterEach(() => vi.useRealTimers());

let good = "";
beforeAll(async () => {
  good = await issued();
});

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
const [payloadOf, sigOf] = [(t: string) => t.split(".")[0]!, (t: string) => t.split(".")[1]!];

/** name → the Authorization header (undefined: none), made when the test runs. */
const TOKEN_CASES: [string, () => Promise<string | undefined>][] = [
  ["no Authorization header", async () => undefined],
  ["an empty Authorization header", async () => ""],
  ["the scheme alone", async () => "Bearer"],
  ["a valid token under another scheme (Token …)", async () => `Token ${good}`],
  ["the BYOC client credentials as HTTP Basic", async () => basic(D.CXONE_BYOC_CLIENT_ID, D.CXONE_BYOC_CLIENT_SECRET)],
  ["the BYOC client secret as the bearer", async () => `Bearer ${D.CXONE_BYOC_CLIENT_SECRET}`],
  ["the admin token", async () => `Bearer ${D.ADMIN_TOKEN}`],
  ["the API token", async () => `Bearer ${D.API_TOKEN}`],
  ["the open-messaging webhook secret", async () => `Bearer ${D.CXONE_WEBHOOK_SECRET}`],
  ["garbage", async () => "Bearer !!not*a*token!!"],
  ["a made-up two-part token", async () => "Bearer abc.def"],
  ["a valid token twice in one header", async () => `Bearer ${good}, Bearer ${good}`],
  ["a valid token with a third part (JWT-shaped)", async () => `Bearer ${good}.e30`],
  ["a valid token without its signature", async () => `Bearer ${payloadOf(good)}.`],
  ["a valid token with its signature in upper case", async () => `Bearer ${payloadOf(good)}.${sigOf(good).toUpperCase()}`],
  ["a valid token with base64 padding added", async () => `Bearer ${payloadOf(good)}==.${sigOf(good)}`],
  ["a token signed with the BYOC secret itself (no key prefix)", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: inAnHour() }, D.CXONE_BYOC_CLIENT_SECRET)}`],
  ["a token signed with a rotated-out secret", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: inAnHour() }, "byoc-token:the-old-secret")}`],
  ["a token signed with the Twilio auth token", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: inAnHour() }, D.TWILIO_AUTH_TOKEN)}`],
  ["a valid token's signature on an extended expiry", async () => `Bearer ${b64url(JSON.stringify({ cid: D.CXONE_BYOC_CLIENT_ID, exp: inAnHour() + 86_400 * 365 }))}.${sigOf(good)}`],
  ["a valid token's signature on another client", async () => `Bearer ${b64url(JSON.stringify({ cid: "someone-else", exp: inAnHour() }))}.${sigOf(good)}`],
  ["a valid token's signature on reordered claims", async () => `Bearer ${b64url(JSON.stringify({ exp: JSON.parse(atob(payloadOf(good))).exp, cid: D.CXONE_BYOC_CLIENT_ID }))}.${sigOf(good)}`],
  ["a right-key token issued to another client id", async () => `Bearer ${await forge({ cid: "someone-else", exp: inAnHour() })}`],
  ["a right-key token without a client", async () => `Bearer ${await forge({ exp: inAnHour() })}`],
  ["a right-key token without an expiry", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID })}`],
  ["a right-key token whose expiry is a string", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: String(inAnHour()) })}`],
  ["a right-key token whose expiry is null", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: null })}`],
  ["a right-key token whose client is a number", async () => `Bearer ${await forge({ cid: 1, exp: inAnHour() })}`],
  ["a right-key token whose claims are an array", async () => `Bearer ${await forge([D.CXONE_BYOC_CLIENT_ID, inAnHour()])}`],
  ["a right-key token whose claims are null", async () => `Bearer ${await forge(null)}`],
  ["a right-key token whose payload is not JSON", async () => `Bearer ${await forge(undefined, RIGHT_KEY, b64url("not json"))}`],
  ["a right-key token whose payload is not base64", async () => `Bearer ${await forge(undefined, RIGHT_KEY, "***")}`],
  ["a right-key token, expired a second ago", async () => `Bearer ${await forge({ cid: D.CXONE_BYOC_CLIENT_ID, exp: Math.floor(Date.now() / 1000) - 1 })}`],
  [
    "a token from the endpoint, expired (issued 3,601 s ago)",
    async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 3_601_000 });
      const old = await issued();
      vi.useRealTimers();
      return `Bearer ${old}`;
    },
  ],
];

/** Each route with a body that WOULD be queued and sent if the token were good. */
const ROUTES: [string, (customer: string) => [string, string]][] = [
  ["2.0 outbound", (c) => [R2(), JSON.stringify(reply2(c, "a reply that must not be sent"))]],
  ["1.0 posts", (c) => [R1(encodeURIComponent(c)), JSON.stringify(reply2(c, "a reply that must not be sent"))]],
  ["sender action", (c) => [ACTION(CHANNEL, encodeURIComponent(c)), JSON.stringify({ action: "isTypingOn" })]],
];

describe("a reply callback or sender action without a good token", () => {
  it.each(TOKEN_CASES)("%s → 401 invalid_token on every route, nothing queued or sent", async (_name, make) => {
    const authorization = await make();
    for (const [route, call] of ROUTES) {
      const customer = phone();
      const [path, body] = call(customer);
      const before = await state();
      const from = mark("log");
      const res = await post(path, body, authorization === undefined ? {} : { authorization });
      expect(res.status, route).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect(await jsonError(res)).toMatchObject({ error: "invalid_token" });
      await expectUntouched(before);
      // The refusal is logged by route, never with the customer's number from the path (contract §6).
      const refusals = lines("log", from).filter((l) => l.event === "dfo.token_refused");
      expect(refusals).toHaveLength(1);
      expect(refusals[0]!.route).toMatch(/\/:(channelId|postId)\//);
      expect(JSON.stringify(refusals[0])).not.toContain(customer.slice(1));
    }
  });

  it("takes a token until the second its hour is up, and refuses it from then on (a frozen clock)", async () => {
    const t0 = Date.UTC(2031, 4, 6, 7, 8, 9, 500);
    vi.useFakeTimers({ toFake: ["Date"], now: t0 });
    const token = await issued();
    const exp = JSON.parse(atob(payloadOf(token))).exp as number;
    expect(exp).toBe(Math.floor(t0 / 1000) + 3600);
    const act = () => post(ACTION(CHANNEL, "t-1"), "{}", { authorization: `Bearer ${token}` });
    vi.setSystemTime(exp * 1000 - 1);
    expect((await act()).status).toBe(204);
    for (const later of [exp * 1000, exp * 1000 + 1, t0 + 86_400_000]) {
      vi.setSystemTime(later);
      const before = await state();
      const [res, r2] = [await act(), await post(R2(), JSON.stringify(reply2(phone(), "late")), { authorization: `Bearer ${token}` })];
      expect([res.status, r2.status]).toEqual([401, 401]);
      expect(await jsonError(r2)).toMatchObject({ error: "invalid_token" });
      await expectUntouched(before);
    }
  });
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({ headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
const form = (body: string, headers: Record<string, string> = {}) => ({ headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
const formOf = (o: Record<string, string>) => new URLSearchParams(o).toString();
const { client_secret: _s, ...noSecret } = CREDS;
const { client_id: _i, ...noId } = CREDS;

/** name, status, OAuth error (none for a 200), request (headers and body). */
const ENDPOINT_CASES: [string, number, string, { headers: Record<string, string>; body: string }][] = [
  ["JSON: the right credentials (control)", 200, "", json(CREDS)],
  ["form: the right credentials (control)", 200, "", form(formOf(CREDS))],
  ["Basic: the right credentials (control)", 200, "", form("grant_type=client_credentials", { authorization: basic(CREDS.client_id, CREDS.client_secret) })],
  ["JSON: a wrong secret", 401, "invalid_client", json({ ...CREDS, client_secret: "nope" })],
  ["JSON: the secret less its last character", 401, "invalid_client", json({ ...CREDS, client_secret: CREDS.client_secret.slice(0, -1) })],
  ["JSON: the secret in upper case", 401, "invalid_client", json({ ...CREDS, client_secret: CREDS.client_secret.toUpperCase() })],
  ["JSON: a wrong client id", 401, "invalid_client", json({ ...CREDS, client_id: "someone-else" })],
  ["JSON: id and secret swapped", 401, "invalid_client", json({ ...CREDS, client_id: CREDS.client_secret, client_secret: CREDS.client_id })],
  ["JSON: no client_secret", 401, "invalid_client", json(noSecret)],
  ["JSON: no client_id", 401, "invalid_client", json(noId)],
  ["JSON: credentials that are not strings", 401, "invalid_client", json({ ...CREDS, client_id: [CREDS.client_id], client_secret: { s: CREDS.client_secret } })],
  ["JSON: the password grant", 400, "unsupported_grant_type", json({ ...CREDS, grant_type: "password" })],
  ["JSON: the grant in upper case", 400, "unsupported_grant_type", json({ ...CREDS, grant_type: "CLIENT_CREDENTIALS" })],
  ["JSON: the grant as an array", 400, "unsupported_grant_type", json({ ...CREDS, grant_type: ["client_credentials"] })],
  ["JSON: no grant_type", 400, "invalid_request", json({ client_id: CREDS.client_id, client_secret: CREDS.client_secret })],
  ["JSON: an empty object", 400, "invalid_request", json({})],
  ["JSON: an array of the fields", 400, "invalid_request", json([CREDS])],
  ["JSON: null", 400, "invalid_request", json("null")],
  ["JSON: not JSON", 400, "invalid_request", json("{grant_type=client_credentials")],
  ["JSON type, form body", 400, "invalid_request", json(formOf(CREDS))],
  ["form type, JSON body", 400, "invalid_request", form(JSON.stringify(CREDS))],
  ["form: an empty body", 400, "invalid_request", form("")],
  ["form: a wrong secret", 401, "invalid_client", form(formOf({ ...CREDS, client_secret: "nope" }))],
  ["form: a wrong client id", 401, "invalid_client", form(formOf({ ...CREDS, client_id: "someone-else" }))],
  ["form: the implicit grant", 400, "unsupported_grant_type", form(formOf({ ...CREDS, grant_type: "implicit" }))],
  // RFC 6749 §3.2: not "the last one wins", which would let a proxy's parameter override the client's.
  ["form: grant_type twice", 400, "invalid_request", form(`grant_type=password&${formOf(CREDS)}`)],
  ["form: client_secret twice", 400, "invalid_request", form(`${formOf(CREDS)}&client_secret=nope`)],
  ["Basic: a wrong secret", 401, "invalid_client", form("grant_type=client_credentials", { authorization: basic(CREDS.client_id, "nope") })],
  ["Basic: a wrong client id", 401, "invalid_client", form("grant_type=client_credentials", { authorization: basic("someone-else", CREDS.client_secret) })],
  ["Basic: bad base64", 401, "invalid_client", form("grant_type=client_credentials", { authorization: "Basic !!!not base64" })],
  ["Basic: bad base64 with good body credentials", 401, "invalid_client", form(formOf(CREDS), { authorization: "Basic %%%" })],
  ["Basic: base64 without a colon", 401, "invalid_client", form("grant_type=client_credentials", { authorization: `Basic ${btoa(CREDS.client_id + CREDS.client_secret)}` })],
  ["Basic: wrong credentials, right ones in the body (Basic wins)", 401, "invalid_client", form(formOf(CREDS), { authorization: basic("someone-else", "nope") })],
  ["Basic: the right credentials, but the password grant", 400, "unsupported_grant_type", form("grant_type=password", { authorization: basic(CREDS.client_id, CREDS.client_secret) })],
  ["Bearer: a valid access token instead of credentials", 401, "invalid_client", form("grant_type=client_credentials", { authorization: "Bearer TOKEN" })],
  ["a body over 64 KB", 413, "payload_too_large", json({ ...CREDS, pad: "x".repeat(65_536) })],
];

describe("the token endpoint under hostile requests", () => {
  it.each(ENDPOINT_CASES)("%s → %i %s, storing nothing", async (_name, status, error, init) => {
    const headers = { ...init.headers };
    if (headers.authorization === "Bearer TOKEN") headers.authorization = `Bearer ${good}`;
    for (const path of [TOKEN, "/cxone/dfo/1.0/token"]) {
      const before = await state();
      const res = await send({ method: "POST", path, headers, body: init.body });
      expect(res.status, path).toBe(status);
      if (status === 200) expect(await res.json()).toEqual({ access_token: expect.stringMatching(/^[\w-]+\.[0-9a-f]{64}$/), token_type: "Bearer", expires_in: 3600 });
      else expect(await jsonError(res)).toMatchObject({ error });
      // Self-contained tokens (contract §8): even one given out stores nothing.
      await expectUntouched(before);
    }
  });
});

describe("the harness can see what it says did not happen", () => {
  it("a good token and a good body: 200, one message row, one job in the channel's sender, one Messages.json call", async () => {
    const twilio = createTwilioEmulator({ accountSid: D.TWILIO_ACCOUNT_SID, authToken: D.TWILIO_AUTH_TOKEN, bridgeUrl: D.PUBLIC_BASE_URL, fetch: bridgeFetch });
    network.use(...recorder(), serveCounted(D.TWILIO_API_BASE, (request) => twilio.app.fetch(request)));
    for (const [route, call] of ROUTES.slice(0, 2)) {
      const customer = phone();
      const before = await state();
      const [path, body] = call(customer);
      const res = await post(path, body, { authorization: `Bearer ${good}` });
      expect(res.status, route).toBe(200);
      await settle(MAIN);
      const after = await snapshot();
      expect(rowDelta(before.snap, after)).toMatchObject({ messages: 1 });
      expect(after.outbound).toBeGreaterThan(before.snap.outbound);
      expect(seen.slice(before.seen)).toEqual([`POST /2010-04-01/Accounts/${D.TWILIO_ACCOUNT_SID}/Messages.json`]);
      expect(twilio.messages().filter((m) => m.to === customer).map((m) => [m.from, m.body])).toEqual([[MAIN, "a reply that must not be sent"]]);
      await expect(expectUntouched(before)).rejects.toThrow();
    }
  });
});
