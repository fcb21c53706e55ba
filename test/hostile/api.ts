import fc from "fast-check";
import { MAX_BATCH } from "../../src/http/api-schemas";
import { TEST_BINDINGS as B } from "../support/bindings";
import { anyText, drop, e164, notAString, notE164, objectText, quoted, tooLong, validPairs, type Template } from "./arbitraries";

/** Fields POST /v1/proactive reads, as keys for random bodies. */
export const PROACTIVE_FIELDS = ["to", "text", "campaignId", "idempotencyKey", "from", "customFields", "messages"];

export const campaignId = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });
const key = fc.uuid().map((u) => JSON.stringify(`key-${u}`));
const badIdValue = fc.oneof(notAString, quoted(fc.constantFrom("", "x".repeat(201))));
const orMissing = (a: fc.Arbitrary<string>) => fc.oneof(drop, a);
const badSender = fc.oneof(notAString, quoted(fc.constantFrom("", "+0123", "MG123", "*", "whatsapp:+14155550100")));
const badCustomFields = fc.constantFrom(
  '{"":"x"}',
  `{"k":"${"x".repeat(501)}"}`,
  '{"k":{"nested":1}}',
  '{"k":null}',
  '{"k":[1]}',
  '{"k":1e309}',
  `{"${"k".repeat(65)}":1}`,
  "[]",
  '"x"',
  "null",
  JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))),
);

const recipientBreakers = {
  to: fc.oneof(notAString, quoted(notE164)),
  text: fc.oneof(notAString, quoted(fc.constant("")), quoted(tooLong(1600))),
  idempotencyKey: badIdValue,
  customFields: badCustomFields,
};

/**
 * One recipient of POST /v1/proactive, as raw JSON values, and what each field must refuse. A
 * batch refuses such a recipient alone, by reason, as it does one missing a field.
 */
export const RECIPIENT: Template = {
  valid: { to: quoted(e164), text: quoted(anyText(40).filter((s) => s !== "")), idempotencyKey: key },
  breakers: recipientBreakers,
};

export const SINGLE: Template = {
  valid: { ...RECIPIENT.valid, campaignId: quoted(campaignId) },
  breakers: {
    to: orMissing(recipientBreakers.to),
    text: orMissing(recipientBreakers.text),
    idempotencyKey: orMissing(recipientBreakers.idempotencyKey),
    customFields: recipientBreakers.customFields,
    campaignId: orMissing(badIdValue),
    from: badSender,
  },
};

/** A batch of valid recipients: only a top-level field can break it (one bad recipient would not). */
export const BATCH: Template = {
  valid: {
    campaignId: quoted(campaignId),
    messages: fc.array(validPairs(RECIPIENT).map(objectText), { minLength: 1, maxLength: 3 }).map((items) => `[${items.join(",")}]`),
  },
  breakers: {
    campaignId: orMissing(badIdValue),
    from: badSender,
    messages: fc.constantFrom(
      "[]",
      '"x"',
      "{}",
      "null",
      "[1]",
      "[null]",
      "[[]]",
      '[{"to":"+14155550100","extra":1}]',
      '[{"__proto__":{"polluted":"yes"}}]',
      '[{"constructor":{"prototype":{"polluted":"yes"}}}]',
      // one recipient over the limit: its items are all empty, so only the count can refuse it
      `[${"{},".repeat(MAX_BATCH)}{}]`,
    ),
  },
};

export interface ParamRoute {
  method: string;
  path: (param: string, query: string) => string;
  token: string;
  /** What the route must answer for this parameter and query: a valid one gets its 2xx. */
  expected: (param: string, query: string) => number;
  /** Tables a 2xx may change. */
  mayWrite: readonly string[];
}

const E164 = /^\+[1-9]\d{6,14}$/;
/** contract §5 "Addresses": a sender is an E.164 number, a short code (3–8 digits) or an MG SID. */
export const isSender = (v: string) => E164.test(v) || /^\d{3,8}$/.test(v) || /^MG[0-9a-fA-F]{32}$/.test(v);

/** The path parameter between `prefix` and `suffix`, as the router hands it over: percent-decoded. */
export function paramOf(path: string, prefix: string, suffix = ""): string {
  const pathname = new URL(`${B.PUBLIC_BASE_URL}${path}`).pathname;
  const raw = pathname.slice(prefix.length, pathname.length - suffix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
/** The first value of a query parameter, decoded as a form would be (null when absent). */
const queryOf = (query: string, key: string) => new URL(`${B.PUBLIC_BASE_URL}/${query}`).searchParams.get(key);
/** What z.coerce.number().int() with these bounds takes. */
const intIn = (v: string, min: number, max: number) => {
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min && n <= max;
};

const optOut = (p: string, q = "") => `/admin/opt-outs/${p}${q}`;

/**
 * What PUT /admin/opt-outs/:phone must answer: 413 over 4 KB; 400 unless the phone is E.164 and
 * the body is blank or a JSON object with at most `business` (`*` or a sender); else 200 with
 * the opt-out it stores.
 */
export function putOptOut(p: string, raw: string | Uint8Array): { status: 200; phone: string; business: string } | { status: 400 | 413 } {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  if (bytes.length > 4 * 1024) return { status: 413 };
  const phone = paramOf(optOut(p), "/admin/opt-outs/");
  if (!E164.test(phone)) return { status: 400 };
  const text = new TextDecoder().decode(bytes);
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      return { status: 400 };
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body) || Object.keys(body).some((k) => k !== "business")) return { status: 400 };
  const business = Object.hasOwn(body, "business") ? (body as { business: unknown }).business : "*";
  if (typeof business !== "string" || !(business === "*" || isSender(business))) return { status: 400 };
  return { status: 200, phone, business };
}
const retry = (p: string) => `/admin/dead-letters/${p}/retry`;
const sender = (p: string) => `/admin/senders/${p}`;

/** Routes taking a path parameter or query; with nothing stored, a lookup can only miss. */
export const PARAM_ROUTES: ParamRoute[] = [
  { method: "GET", path: (p) => `/admin/messages/${p}`, token: B.ADMIN_TOKEN, expected: () => 404, mayWrite: [] },
  { method: "GET", path: (p) => `/admin/conversations/${p}`, token: B.ADMIN_TOKEN, expected: () => 404, mayWrite: [] },
  {
    method: "GET",
    path: (_, q) => `/admin/dead-letters${q}`,
    token: B.ADMIN_TOKEN,
    expected: (_, q) => {
      const limit = queryOf(q, "limit");
      return limit === null || intIn(limit, 1, 500) ? 200 : 400;
    },
    mayWrite: [],
  },
  { method: "POST", path: retry, token: B.ADMIN_TOKEN, expected: (p) => (intIn(paramOf(retry(p), "/admin/dead-letters/", "/retry"), 1, Number.MAX_SAFE_INTEGER) ? 404 : 400), mayWrite: [] },
  { method: "GET", path: (p) => optOut(p), token: B.ADMIN_TOKEN, expected: (p) => (E164.test(paramOf(optOut(p), "/admin/opt-outs/")) ? 200 : 400), mayWrite: [] },
  {
    method: "DELETE",
    path: optOut,
    token: B.ADMIN_TOKEN,
    expected: (p, q) => {
      const business = queryOf(q, "business");
      return E164.test(paramOf(optOut(p), "/admin/opt-outs/")) && (business === null || business === "*" || isSender(business)) ? 200 : 400;
    },
    // Taking a customer off the list is a consent change too (contract §5), recorded even when nothing was listed.
    mayWrite: ["opt_outs", "consent_changes"],
  },
  { method: "GET", path: sender, token: B.ADMIN_TOKEN, expected: (p) => (isSender(paramOf(sender(p), "/admin/senders/")) ? 200 : 400), mayWrite: [] },
  { method: "GET", path: (p) => `/v1/proactive/batches/${p}`, token: B.API_TOKEN, expected: () => 404, mayWrite: [] },
];

/** Every admin route (contract §3), for the token check. */
export const ADMIN_ROUTES: [string, (param: string) => string][] = [
  ...PARAM_ROUTES.filter((r) => r.token === B.ADMIN_TOKEN).map((r): [string, (p: string) => string] => [r.method, (p) => r.path(p, "")]),
  ["PUT", (p) => `/admin/opt-outs/${p}`],
  ["POST", () => "/admin/reconcile"],
  ["GET", (p) => `/admin/${p}`],
  ["GET", () => "/admin"],
];
