import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isE164 } from "../../src/domain/compliance/e164";
import { TEST_BINDINGS as B } from "../support/bindings";
import { ADMIN_ROUTES, BATCH, campaignId, PARAM_ROUTES, PROACTIVE_FIELDS, putOptOut, RECIPIENT, SINGLE } from "./api";
import { anyBody, broken, contentType, e164, headerText, jsonLeaf, METHODS, objectText, query, urlPart, validPairs, wrongAuthorization } from "./arbitraries";
import { bearer, expectAnswered, expectRefused, rowDelta, send, sendThroughEntrypoint, snapshot, useHostileHarness, type Call, type Snapshot } from "./harness";

// The bearer-token doors (proactive, admin) and everything that is no route at all.
useHostileHarness();

const optionalType = fc.option(contentType, { nil: undefined });
const isJsonType = (type: string | undefined) => type !== undefined && type.trim().toLowerCase().startsWith("application/json");
const headersOf = (...parts: (Record<string, string> | undefined)[]) => Object.assign({}, ...parts.filter(Boolean)) as Record<string, string>;
const typeHeader = (type: string | undefined) => (type === undefined ? undefined : { "content-type": type });
const proactive = (body: Call["body"], type: string | undefined) => send({ method: "POST", path: "/v1/proactive", headers: headersOf(bearer(B.API_TOKEN), typeHeader(type)), body });

/** A 202 batch that accepted nobody: one batch row, nothing queued, nothing sent. */
async function expectNobodyAccepted(res: Response, before: Snapshot): Promise<{ batchId: string; refused: unknown[] }> {
  expect(res.status).toBe(202);
  const answer = (await res.json()) as { batchId: string; accepted: number; refused: unknown[] };
  expect(answer.accepted).toBe(0);
  const after = await snapshot();
  expect(rowDelta(before, after)).toEqual({ proactive_batches: 1 });
  expect({ outbound: after.outbound, prototype: after.prototype }).toEqual({ outbound: before.outbound, prototype: before.prototype });
  return answer;
}

describe("/v1/proactive", () => {
  const path = fc.oneof(fc.constant("/v1/proactive"), urlPart.map((p) => `/v1/proactive/batches/${p}`), urlPart.map((p) => `/v1/${p}`));
  const authorization = fc.option(wrongAuthorization(B.API_TOKEN, [B.ADMIN_TOKEN, B.CXONE_WEBHOOK_SECRET]), { nil: undefined });

  it("refuses a missing or wrong API token with 401 on every /v1 path and method", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), path, authorization, anyBody(PROACTIVE_FIELDS), optionalType, async (method, p, auth, body, type) => {
        const before = await snapshot();
        const res = await send({ method, path: p, headers: headersOf(auth === undefined ? undefined : { authorization: auth }, typeHeader(type)), body });
        await expectRefused(res, before, { statuses: [401], method });
      }),
      { numRuns: 100 },
    );
  });

  it("refuses broken single and batch requests under the right token: 415 for a foreign type, else 400", async () => {
    const body = fc.oneof(broken(SINGLE, jsonLeaf), broken(BATCH, jsonLeaf)).map(objectText);
    await fc.assert(
      fc.asyncProperty(body, optionalType, async (raw, type) => {
        const before = await snapshot();
        await expectRefused(await proactive(raw, type), before, { statuses: [isJsonType(type) ? 400 : 415] });
      }),
      { numRuns: 100 },
    );
  });

  it("answers random bodies under the right token with 415/400, or a 202 batch that accepted nobody", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody(PROACTIVE_FIELDS), optionalType, async (raw, type) => {
        const before = await snapshot();
        const res = await proactive(raw, type);
        if (res.status === 202) await expectNobodyAccepted(res, before);
        else await expectRefused(res, before, { statuses: [isJsonType(type) ? 400 : 415] });
      }),
      { numRuns: 100 },
    );
  });

  it("refuses each broken recipient of a batch by reason, and reports them all refused", async () => {
    const recipients = fc.array(broken(RECIPIENT, jsonLeaf, { foreignKeys: false }).map(objectText), { minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(campaignId, recipients, async (campaign, items) => {
        const expected = items.map((item) => {
          const { to } = JSON.parse(item) as { to?: unknown };
          return { to, reason: typeof to === "string" && isE164(to) ? "invalid_message" : "invalid_number" };
        });
        const before = await snapshot();
        const res = await proactive(objectText([["campaignId", JSON.stringify(campaign)], ["messages", `[${items.join(",")}]`]]), "application/json");
        const { batchId, refused } = await expectNobodyAccepted(res, before);
        expect(refused).toEqual(JSON.parse(JSON.stringify(expected)));
        const view = await send({ method: "GET", path: `/v1/proactive/batches/${batchId}`, headers: bearer(B.API_TOKEN) });
        expect(await view.json()).toEqual({
          batchId,
          campaignId: campaign,
          total: items.length,
          counts: { queued: 0, deferred: 0, sent: 0, delivered: 0, failed: 0, refused: items.length },
        });
      }),
      { numRuns: 30 },
    );
  });

  // One recipient without `to`, `text` or `idempotencyKey` is refused by itself (contract §3: "for
  // each recipient: refuse (and report why)"), never the whole batch.
  it("refuses a recipient missing a field by itself, not the whole batch", async () => {
    const recipient = fc.tuple(validPairs(RECIPIENT), fc.constantFrom("to", "text", "idempotencyKey"));
    await fc.assert(
      fc.asyncProperty(recipient, async ([pairs, missing]) => {
        const item = objectText(pairs.filter(([k]) => k !== missing));
        const before = await snapshot();
        const res = await proactive(`{"campaignId":"c","messages":[${item}]}`, "application/json");
        const { refused } = await expectNobodyAccepted(res, before);
        expect(refused).toEqual([{ ...(missing === "to" ? {} : { to: JSON.parse(item).to }), reason: missing === "to" ? "invalid_number" : "invalid_message" }]);
      }),
      { numRuns: 10 },
    );
  });
});

describe("/admin/* and GET /v1/proactive/batches/:batchId", () => {
  const authorization = fc.option(wrongAuthorization(B.ADMIN_TOKEN, [B.API_TOKEN, B.CXONE_WEBHOOK_SECRET]), { nil: undefined });

  it("refuses a missing or wrong admin token with 401 on every admin route", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ADMIN_ROUTES), urlPart, authorization, anyBody(["business"]), async ([method, path], param, auth, body) => {
        const before = await snapshot();
        const res = await send({ method, path: path(param), headers: headersOf(auth === undefined ? undefined : { authorization: auth }), body });
        await expectRefused(res, before, { statuses: [401], method });
      }),
      { numRuns: 100 },
    );
  });

  it("answers hostile path parameters and queries with the route's own statuses; refusals change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PARAM_ROUTES), urlPart, query, async (route, param, q) => {
        const before = await snapshot();
        const res = await send({ method: route.method, path: route.path(param, q), headers: bearer(route.token) });
        const expected = route.expected(param, q);
        expect(res.status, `${route.method} ${route.path(param, q)}`).toBe(expected);
        await expectAnswered(res, before, { statuses: [expected], mayWrite: route.mayWrite, method: route.method });
      }),
      { numRuns: 150 },
    );
  });

  it("PUT /admin/opt-outs/:phone stores an opt-out for a valid body only; anything else is a 400 that stores nothing", async () => {
    const phone = fc.oneof(e164, e164.map(encodeURIComponent), urlPart);
    const body = fc.oneof(
      anyBody(["business"]),
      fc.constantFrom("", "   ", "{}", '{"business":"*"}', `{"business":"MG${"a".repeat(32)}"}`, '{"business":"*","business":"nope"}', '{"business":"nope","business":"*"}'),
      fc.constantFrom('{"business":"*","__proto__":{"polluted":"yes"}}', '{"business":"*","extra":1}', '{"business":null}', '{"business":["*"]}', '{"Business":"*"}', "null", "[]", '"*"'),
    );
    await fc.assert(
      fc.asyncProperty(phone, body, optionalType, async (p, raw, type) => {
        const expected = putOptOut(p, raw);
        const before = await snapshot();
        const res = await send({ method: "PUT", path: `/admin/opt-outs/${p}`, headers: headersOf(bearer(B.ADMIN_TOKEN), typeHeader(type)), body: raw });
        expect(res.status).toBe(expected.status);
        // A valid PUT writes the opt-out and its consent change (contract §5); a refused one, nothing anywhere.
        const answer = await expectAnswered(res, before, { statuses: [expected.status], mayWrite: ["opt_outs", "consent_changes"] });
        if (expected.status !== 200) return;
        expect(answer).toEqual({ phone: expected.phone, business: expected.business, suppressed: true });
        const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM opt_outs WHERE phone = ? AND business = ?").bind(expected.phone, expected.business).first<{ n: number }>();
        expect(stored?.n).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  it("POST /admin/reconcile ignores whatever comes with it: 200, nothing to do, nothing sent", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody([]), optionalType, query, async (raw, type, q) => {
        const before = await snapshot();
        const res = await send({ method: "POST", path: `/admin/reconcile${q}`, headers: headersOf(bearer(B.ADMIN_TOKEN), typeHeader(type)), body: raw });
        const report = await expectAnswered(res, before, { statuses: [200], mayWrite: [] });
        expect(report).toMatchObject({ statusChecked: 0, requeued: 0, lost: 0, errors: 0 });
      }),
      { numRuns: 30 },
    );
  });
});

// Segments of real routes, so that random paths land near them, and what URL parsers trip on.
const WORDS = ["admin", "twilio", "cxone", "v1", "proactive", "batches", "healthz", "inbound", "status", "outbound", "messages", "opt-outs"];
const MORE_WORDS = ["dead-letters", "retry", "reconcile", "senders", "conversations", "__metrics", "..", ".", "%2e%2e", "", "%00", "%", "\\", "HEALTHZ"];
const anyPath = fc.array(fc.oneof(fc.constantFrom(...WORDS, ...MORE_WORDS), urlPart), { maxLength: 5 }).map((segments) => `/${segments.join("/")}`);
const pathname = (path: string) => new URL(`${B.PUBLIC_BASE_URL}${path}`).pathname;

describe("GET /healthz, unknown routes and methods, huge bodies, the entrypoint", () => {
  const headerName = fc.oneof(fc.constantFrom("authorization", "cookie", "accept", "accept-encoding", "range", "origin", "x-forwarded-for", "x-twilio-signature"), fc.stringMatching(/^x-[a-z0-9-]{1,20}$/));

  it("GET and HEAD /healthz answer 200 whatever the query or headers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "HEAD"), query, fc.dictionary(headerName, headerText, { maxKeys: 4 }), async (method, q, headers) => {
        const res = await send({ method, path: `/healthz${q}`, headers });
        expect(res.status).toBe(200);
        if (method === "GET") expect(await res.json()).toMatchObject({ ok: true, checks: { config: "ok", d1: "ok" } });
      }),
      { numRuns: 50 },
    );
  });

  it("answers any other path and method with a JSON 4xx and changes nothing (a 2xx only for /healthz)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), anyPath, query, anyBody([]), optionalType, async (method, path, q, body, type) => {
        const before = await snapshot();
        const res = await send({ method, path: `${path}${q}`, headers: headersOf(typeHeader(type)), body });
        const health = /^(GET|HEAD)$/.test(method.toUpperCase()) && pathname(`${path}${q}`) === "/healthz";
        expect(res.status, `${method} ${path}${q}`).toSatisfy((s: number) => (health ? s === 200 : s >= 400 && s < 500));
        await expectAnswered(res, before, { statuses: health ? [200] : [400, 401, 403, 404, 413, 415], mayWrite: [], method });
      }),
      { numRuns: 150 },
    );
  });

  const MiB = 1 << 20;
  /** [route, request without body, expected status for a body of that size]. */
  const BIG: [string, Omit<Call, "body">, (size: number) => number][] = [
    ["twilio inbound", { method: "POST", path: "/twilio/inbound", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "x" } }, () => 413],
    ["twilio status", { method: "POST", path: "/twilio/status", headers: { "content-type": "application/json" } }, () => 413],
    ["cxone push", { method: "POST", path: "/cxone/outbound", headers: headersOf(bearer(B.CXONE_WEBHOOK_SECRET), { "content-type": "application/json" }) }, () => 413],
    ["proactive", { method: "POST", path: "/v1/proactive", headers: headersOf(bearer(B.API_TOKEN), { "content-type": "application/json" }) }, (size) => (size > 32 * MiB ? 413 : 400)],
    ["opt-out", { method: "PUT", path: "/admin/opt-outs/+14155550100", headers: bearer(B.ADMIN_TOKEN) }, () => 413],
    ["dead-letter retry", { method: "POST", path: "/admin/dead-letters/1/retry", headers: bearer(B.ADMIN_TOKEN) }, () => 404],
    ["no route", { method: "POST", path: "/nope" }, () => 404],
  ];
  /**
   * Random bytes, or valid JSON: one long string, possibly inside 100k nested arrays — never
   * blank (PUT takes a blank body). Deeper nesting works too but costs seconds of JSON.parse.
   */
  function bigBody(size: number, fill: "bytes" | "string" | "nested"): Uint8Array {
    const out = new Uint8Array(size);
    if (fill === "bytes") {
      const chunk = crypto.getRandomValues(new Uint8Array(65_536));
      for (let i = 0; i < size; i += chunk.length) out.set(chunk.subarray(0, Math.min(chunk.length, size - i)), i);
      return out;
    }
    const depth = fill === "nested" ? 100_000 : 0;
    out.fill(0x5b, 0, depth).fill(0x78, depth, size - depth).fill(0x5d, size - depth);
    out[depth] = out[size - depth - 1] = 0x22;
    return out;
  }
  /** The same bytes with no Content-Length, so a body limit has to count them as they come. */
  const streamOf = (bytes: Uint8Array) => {
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, (offset += 65_536)));
      },
    });
  };

  it("refuses bodies of 1–9 MB on every route that takes a body, through the entrypoint and directly", async () => {
    const fill = fc.constantFrom<"bytes" | "string" | "nested">("bytes", "string", "nested");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MiB, max: 9 * MiB }), fill, fc.boolean(), fc.boolean(), async (size, kind, streamed, direct) => {
        const bytes = bigBody(size, kind);
        for (const [name, call, status] of BIG) {
          const before = await snapshot();
          const res = await (direct ? send : sendThroughEntrypoint)({ ...call, body: streamed ? streamOf(bytes) : bytes });
          await expectRefused(res, before, { statuses: [status(size)] }).catch((e: unknown) => {
            throw new Error(`${name}: ${String(e)}`);
          });
        }
      }),
      { numRuns: 4 },
    );
  });

  it("refuses a proactive body over 32 MB (a 100,000-recipient batch fits under it), streamed or not", async () => {
    const proactive = BIG.find(([name]) => name === "proactive")!;
    const bytes = bigBody(32 * MiB + 1, "string");
    for (const streamed of [false, true]) {
      const before = await snapshot();
      const res = await sendThroughEntrypoint({ ...proactive[1], body: streamed ? streamOf(bytes) : bytes });
      await expectRefused(res, before, { statuses: [413] });
    }
  });

  it("answers through the Worker entrypoint exactly as through the direct call these tests use", async () => {
    const path = fc.oneof(anyPath, fc.constantFrom("/twilio/inbound", "/twilio/status", "/cxone/outbound", "/v1/proactive", "/admin/dead-letters", "/healthz"));
    const auth = fc.constantFrom(undefined, bearer(B.ADMIN_TOKEN), bearer(B.API_TOKEN), bearer(B.CXONE_WEBHOOK_SECRET));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), path, query, auth, anyBody(PROACTIVE_FIELDS), optionalType, async (method, p, q, a, body, type) => {
        const call = () => ({ method, path: `${p}${q}`, headers: headersOf(a, typeHeader(type)), body: typeof body === "string" ? body : body.slice() });
        const [direct, entry] = [await send(call()), await sendThroughEntrypoint(call())];
        // A body that happens to be a batch of refused recipients gets a fresh batchId each time.
        const seen = async (r: Response) => [r.status, r.headers.get("content-type"), (await r.text()).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")];
        expect(await seen(entry)).toEqual(await seen(direct));
      }),
      { numRuns: 40 },
    );
  });
});
