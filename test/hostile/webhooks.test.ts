import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/crypto";
import { TEST_BINDINGS as B } from "../support/bindings";
import {
  anyBody,
  anyText,
  broken,
  contentType,
  drop,
  e164,
  formText,
  formType,
  headerText,
  hex,
  jsonLeaf,
  jsonTree,
  mediaTypeOf,
  notAString,
  notE164,
  objectText,
  query,
  quoted,
  tooLong,
  validPairs,
  wrongAuthorization,
  type Template,
} from "./arbitraries";
import { expectRefused, send, snapshot, useHostileHarness } from "./harness";
import { BASE, FIELDS, JSON_TEMPLATES, jsonPath, replays, route, seenUrl, signForm, signJson, TEMPLATES, TOKEN } from "./twilio";

// The two doors that take no bearer token of ours: Twilio's signed webhooks and CXone's push.
// Until a caller is proven, nothing may be stored or sent (SPEC §3).
useHostileHarness();

describe("POST /twilio/inbound and POST /twilio/status", () => {
  const forgedSignature = fc.oneof(drop, fc.constant(""), headerText, fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => btoa(String.fromCharCode(...b))));
  const body = fc.oneof(anyBody(FIELDS), route.chain((r) => validPairs(TEMPLATES[r]).map(formText)));
  const search = fc.oneof(fc.constant(""), query, hex(64).map((h) => `?bodySHA256=${h}`));

  it("refuse a missing or forged signature: 415 for a foreign media type, else 403", async () => {
    await fc.assert(
      fc.asyncProperty(route, body, contentType, forgedSignature, search, async (r, raw, type, signature, q) => {
        const headers: Record<string, string> = { "content-type": type };
        if (signature !== undefined) headers["x-twilio-signature"] = signature;
        const before = await snapshot();
        const res = await send({ method: "POST", path: `${r}${q}`, headers, body: raw });
        const media = mediaTypeOf(type);
        await expectRefused(res, before, { statuses: [media === "application/x-www-form-urlencoded" || media === "application/json" ? 403 : 415] });
      }),
      { numRuns: 100 },
    );
  });

  it("refuse a signature Twilio made for another body, URL, token or body hash: 403 from the signature check", async () => {
    await fc.assert(
      fc.asyncProperty(replays, async (replay) => {
        const { path, signature } = await replay.prepare();
        const before = await snapshot();
        const res = await send({ method: "POST", path, headers: { "content-type": replay.type, "x-twilio-signature": signature }, body: replay.body });
        const refusal = await expectRefused(res, before, { statuses: [403] });
        expect(refusal?.message, replay.why).toMatch(/X-Twilio-Signature/);
      }),
      { numRuns: 100 },
    );
  });
});

/** What the bridge answers a genuinely signed webhook: 403 unless AccountSid is exactly ours, then 400. */
const formVerdict = (raw: string) => {
  const account = new URLSearchParams(raw).getAll("AccountSid");
  return account.length === 1 && account[0] === B.TWILIO_ACCOUNT_SID ? 400 : 403;
};
const jsonVerdict = (raw: string) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 400;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return 400;
  return Object.hasOwn(parsed, "AccountSid") && (parsed as Record<string, unknown>).AccountSid === B.TWILIO_ACCOUNT_SID ? 400 : 403;
};

describe("POST /twilio/inbound and POST /twilio/status, signed with the right token", () => {
  // Raw tails URLSearchParams would never write: empty pairs, bare keys, broken escapes.
  const tail = fc.constantFrom("", "&", "&&", "&%zz=%", "&%E0%A4%A=%FF", "&+=+", "&a", "&;");

  it("refuse forms with missing, repeated, malformed and pollution fields: 400, or 403 for the account", async () => {
    const cases = route.chain((r) => fc.tuple(fc.constant(r), broken(TEMPLATES[r], anyText()), tail, fc.oneof(fc.constant(""), query), formType));
    await fc.assert(
      fc.asyncProperty(cases, async ([r, pairs, rest, q, type]) => {
        const raw = formText(pairs) + rest;
        const headers = { "content-type": type, "x-twilio-signature": await signForm(TOKEN, seenUrl(`${r}${q}`), raw) };
        const before = await snapshot();
        const res = await send({ method: "POST", path: `${r}${q}`, headers, body: raw });
        await expectRefused(res, before, { statuses: [formVerdict(raw)] });
      }),
      { numRuns: 100 },
    );
  });

  it("refuse hostile JSON under a matching bodySHA256: 400, or 403 for the account", async () => {
    const cases = route.chain((r) => fc.tuple(fc.constant(r), fc.oneof(jsonTree(FIELDS), broken(JSON_TEMPLATES[r], jsonLeaf).map(objectText), anyText(60))));
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom("application/json", "application/json; charset=utf-8"), async ([r, raw], type) => {
        const path = await jsonPath(r, raw);
        const headers = { "content-type": type, "x-twilio-signature": await signJson(TOKEN, `${BASE}${path}`) };
        const before = await snapshot();
        const res = await send({ method: "POST", path, headers, body: raw });
        await expectRefused(res, before, { statuses: [jsonVerdict(raw)] });
      }),
      { numRuns: 100 },
    );
  });
});

const SECRET = B.CXONE_WEBHOOK_SECRET;
const ITEM_FIELDS = ["id", "conversationId", "to", "body", "from", "direction", "channel", "status", "createdTime", "attachments"];
const attachment = '{"url":"https://media.example.com/a.jpg"}';

/** A reply CXone would push (raw JSON values), and per field what must be refused. */
const ITEM: Template = {
  valid: {
    id: fc.uuid().map((u) => JSON.stringify(`out-${u}`)),
    conversationId: fc.uuid().map((u) => JSON.stringify(`conv-${u}`)),
    to: quoted(e164),
    body: quoted(anyText(100)),
    createdTime: fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
  },
  breakers: {
    id: fc.oneof(drop, notAString, quoted(fc.constantFrom("", "x".repeat(201)))),
    conversationId: fc.oneof(drop, notAString, quoted(fc.constantFrom("", "x".repeat(201)))),
    to: fc.oneof(drop, notAString, quoted(notE164), fc.constant("14155550100")),
    body: fc.oneof(drop, notAString, quoted(tooLong(1600))),
    // `from` may be null or absent, so only wrong strings break it.
    from: quoted(fc.constantFrom("", "+0123", "MG123", "whatsapp:+14155550100")),
    direction: quoted(fc.constantFrom("INBOUND", "outbound", "")),
    channel: quoted(fc.constantFrom("WHATSAPP", "sms")),
    createdTime: quoted(fc.constantFrom("yesterday", "2024-13-01T00:00:00Z", "2024-01-01", "")),
    attachments: fc.constantFrom('[{"url":"javascript:alert(1)"}]', '[{"url":"ftp://x.test/a"}]', attachment, `[${Array(11).fill(attachment).join(",")}]`, '[{"contentType":"image/png"}]', '"https://x.test/a"'),
  },
};

/** What the Worker hashes: the body decoded as UTF-8 (invalid bytes replaced), as `c.req.text()` does. */
const textOf = (body: string | Uint8Array) => (typeof body === "string" ? body : new TextDecoder().decode(body));

type Signer = (raw: string) => Promise<string>;

/** X-Signature-256 values that do not fit the body: replayed, keyed wrong, malformed. */
const wrongSignature: fc.Arbitrary<Signer> = fc.oneof(
  anyText(20)
    .filter((s) => s !== "")
    .map((extra): Signer => async (raw) => `sha256=${await hmacSha256Hex(SECRET, raw + extra)}`),
  headerText
    .filter((s) => s !== "" && s !== SECRET)
    .map((key): Signer => async (raw) => `sha256=${await hmacSha256Hex(key, raw)}`),
  fc.constantFrom("sha1=", "SHA256=", "sha256:", "sha256= ", "", "sha512=").map((prefix): Signer => async (raw) => `${prefix}${await hmacSha256Hex(SECRET, raw)}`),
  fc.constantFrom("shorter", "longer").map((how): Signer => async (raw) => {
    const mac = await hmacSha256Hex(SECRET, raw);
    return `sha256=${how === "shorter" ? mac.slice(0, -1) : `${mac}0`}`;
  }),
  hex(64).map((h): Signer => async () => `sha256=${h}`),
  headerText.map((h): Signer => async () => h),
);

/** Credentials that do work: the bearer in the forms `hasBearer` accepts, or the body's HMAC in either case. */
const rightCredentials = fc.constantFrom<(raw: string) => Promise<Record<string, string>>>(
  async () => ({ authorization: `Bearer ${SECRET}` }),
  async () => ({ authorization: `bearer   ${SECRET}  ` }),
  async (raw) => ({ "x-signature-256": `sha256=${await hmacSha256Hex(SECRET, raw)}` }),
  async (raw) => ({ "x-signature-256": `sha256=${(await hmacSha256Hex(SECRET, raw)).toUpperCase()}` }),
);

describe("POST /cxone/outbound", () => {
  const anyItem = fc.oneof(anyBody(ITEM_FIELDS), validPairs(ITEM).map(objectText));
  const bearer = fc.option(wrongAuthorization(SECRET, [B.ADMIN_TOKEN, B.API_TOKEN, B.TWILIO_AUTH_TOKEN]), { nil: undefined });
  const signature = fc.option(wrongSignature, { nil: undefined });

  it("refuses missing, wrong and replayed credentials with 401, even for a valid item", async () => {
    await fc.assert(
      fc.asyncProperty(anyItem, fc.option(contentType, { nil: undefined }), bearer, signature, async (raw, type, authorization, sign) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers["content-type"] = type;
        if (authorization !== undefined) headers.authorization = authorization;
        if (sign) headers["x-signature-256"] = await sign(textOf(raw));
        const before = await snapshot();
        const res = await send({ method: "POST", path: "/cxone/outbound", headers, body: raw });
        await expectRefused(res, before, { statuses: [401] });
      }),
      { numRuns: 100 },
    );
  });

  it("refuses hostile bodies under valid credentials: 415 unless the type is application/json…, else 400", async () => {
    const body = fc.oneof(anyBody(ITEM_FIELDS), broken(ITEM, jsonLeaf).map(objectText));
    await fc.assert(
      fc.asyncProperty(body, fc.option(contentType, { nil: undefined }), rightCredentials, async (raw, type, credentials) => {
        // Without a content-type of its own a string body goes out as text/plain.
        const headers: Record<string, string> = { ...(await credentials(textOf(raw))) };
        if (type !== undefined) headers["content-type"] = type;
        const json = type !== undefined && type.trim().toLowerCase().startsWith("application/json");
        const before = await snapshot();
        const res = await send({ method: "POST", path: "/cxone/outbound", headers, body: raw });
        await expectRefused(res, before, { statuses: [json ? 400 : 415] });
      }),
      { numRuns: 100 },
    );
  });
});
