import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { createCxoneEmulator } from "../../emulators/cxone/app";
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
import { thread } from "../support/inbound";
import { network } from "../support/network";
import { expectRefused, rowDelta, send, serveCounted, snapshot, useHostileHarness, type Snapshot } from "./harness";
import {
  BASE,
  FIELDS,
  formStatus,
  formValues,
  freshSids,
  JSON_TEMPLATES,
  jsonPath,
  jsonStatus,
  jsonValues,
  replays,
  route,
  seenUrl,
  signForm,
  signJson,
  single,
  TEMPLATES,
  TOKEN,
  type Route,
  type Values,
} from "./twilio";

// The two doors that take no bearer token of ours: Twilio's signed webhooks and CXone's push.
// Until a caller is proven, nothing may be stored or sent (contract §3).
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

const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
/**
 * What taking a text may write: the message, its conversation, a keyword's consent change (and the
 * AUTOINCREMENT counter of the first insert); a status callback: its status event.
 */
const INBOUND_WRITES = ["messages", "conversations", "opt_outs", "consent_changes", "sqlite_sequence"];
const STATUS_WRITES = ["status_events", "sqlite_sequence"];

describe("POST /twilio/inbound and POST /twilio/status, signed with the right token", () => {
  // Raw tails URLSearchParams would never write: empty pairs, bare keys, broken escapes.
  const tail = fc.constantFrom("", "&", "&&", "&%zz=%", "&%E0%A4%A=%FF", "&+=+", "&a", "&;");

  // A text the bridge rightly takes is delivered to this CXone before the next run begins, so that
  // no delivery is left running into another run's snapshot; its calls still count as outbound.
  let cxone: ReturnType<typeof createCxoneEmulator>;
  beforeEach(() => {
    cxone = createCxoneEmulator({ clientId: B.CXONE_CLIENT_ID, clientSecret: B.CXONE_CLIENT_SECRET, bridgeUrl: BASE, webhookSecret: B.CXONE_WEBHOOK_SECRET });
    network.use(serveCounted(B.CXONE_API_BASE, (request) => cxone.app.fetch(request)));
  });

  /**
   * Exactly the answer contract §3 gives `values`: a refusal (`expected` 4xx) stores and sends nothing;
   * a 200 is empty TwiML, and then a status callback wrote at most its status event and called no
   * one, and a text was recorded once and reaches CXone once.
   */
  async function expectOutcome(r: Route, expected: number, values: Values, res: Response, before: Snapshot) {
    if (expected !== 200) {
      await expectRefused(res, before, { statuses: [expected] });
      return;
    }
    const text = await res.text();
    expect(res.status, `a webhook the rule takes was refused: ${text.slice(0, 300)}`).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(text).toBe(TWIML_EMPTY);
    if (r === "/twilio/status") {
      const after = await snapshot();
      expect(Object.keys(rowDelta(before, after)).filter((t) => !STATUS_WRITES.includes(t))).toEqual([]);
      expect({ outbound: after.outbound, prototype: after.prototype }).toEqual({ outbound: before.outbound, prototype: before.prototype });
      return;
    }
    const [sid, from, to] = ["MessageSid", "From", "To"].map((name) => single(values(name))!);
    expect(await thread(from!, to).deliver()).toMatchObject({ pending: 0, dead: 0 });
    const copies = cxone.conversationsOf(from!).flatMap((c) => c.messages.filter((m) => m.metadata?.twilio_message_sid === sid));
    expect(copies).toHaveLength(1);
    const after = await snapshot();
    const delta = rowDelta(before, after);
    expect(delta.messages).toBe(1);
    expect(Object.keys(delta).filter((t) => !INBOUND_WRITES.includes(t))).toEqual([]);
    expect(after.prototype).toBe(before.prototype);
  }

  it("answer forms with missing, empty, repeated, oversized, malformed and pollution fields exactly by the rule: 403 account, 400 MessageSid/From/To, else 200", async () => {
    const cases = route.chain((r) => fc.tuple(fc.constant(r), broken(TEMPLATES[r], anyText()), tail, fc.oneof(fc.constant(""), query), formType));
    const seen: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(cases, async ([r, pairs, rest, q, type]) => {
        const raw = freshSids(formText(pairs) + rest);
        const expected = formStatus(r, raw);
        seen[expected] = (seen[expected] ?? 0) + 1;
        const headers = { "content-type": type, "x-twilio-signature": await signForm(TOKEN, seenUrl(`${r}${q}`), raw) };
        const before = await snapshot();
        const res = await send({ method: "POST", path: `${r}${q}`, headers, body: raw });
        await expectOutcome(r, expected, formValues(raw), res, before);
      }),
      { numRuns: 150 },
    );
    // The generator must keep reaching every answer, or the property says little (413 may come too).
    expect(Object.keys(seen)).toEqual(expect.arrayContaining(["200", "400", "403"]));
  });

  it("answer hostile JSON under a matching bodySHA256 exactly by the rule: 400 for no object, 403 account, 400 MessageSid/From/To, else 200", async () => {
    const cases = route.chain((r) => fc.tuple(fc.constant(r), fc.oneof(jsonTree(FIELDS), broken(JSON_TEMPLATES[r], jsonLeaf).map(objectText), anyText(60))));
    const seen: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom("application/json", "application/json; charset=utf-8"), async ([r, generated], type) => {
        const raw = freshSids(generated);
        const expected = jsonStatus(r, raw);
        seen[expected] = (seen[expected] ?? 0) + 1;
        const path = await jsonPath(r, raw);
        const headers = { "content-type": type, "x-twilio-signature": await signJson(TOKEN, `${BASE}${path}`) };
        const before = await snapshot();
        const res = await send({ method: "POST", path, headers, body: raw });
        await expectOutcome(r, expected, expected === 200 ? jsonValues(JSON.parse(raw) as object) : () => [], res, before);
      }),
      { numRuns: 150 },
    );
    expect(Object.keys(seen)).toEqual(expect.arrayContaining(["200", "400", "403"]));
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
    // `from` may be null or absent, so only wrong strings break it; a WhatsApp sender for an SMS `to` names the other channel.
    from: quoted(fc.constantFrom("", "+0123", "MG123", "whatsapp:+14155550100", "whatsapp:14155550100")),
    direction: quoted(fc.constantFrom("INBOUND", "outbound", "")),
    // WHATSAPP is a channel; SMS is one too, but not for a whatsapp: `to` (the generated `to` is E.164).
    channel: quoted(fc.constantFrom("sms", "whatsapp", "MMS", "")),
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
