import fc from "fast-check";
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
 * One recipient of POST /v1/proactive, as raw JSON values, and what each field must refuse. Its
 * breakers keep every field present: a batch with a recipient missing one is refused whole
 * (see the `it.fails` in api.test.ts).
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
      `[${"{},".repeat(10_000)}{}]`,
    ),
  },
};

export interface ParamRoute {
  method: string;
  path: (param: string, query: string) => string;
  token: string;
  /** Every answer the route may give to a hostile parameter; a 2xx among them means some are valid. */
  statuses: readonly number[];
  /** Tables a 2xx may change. */
  mayWrite: readonly string[];
}

/** Routes taking a path parameter or query; with nothing stored, a lookup can only miss. */
export const PARAM_ROUTES: ParamRoute[] = [
  { method: "GET", path: (p) => `/admin/messages/${p}`, token: B.ADMIN_TOKEN, statuses: [404], mayWrite: [] },
  { method: "GET", path: (p) => `/admin/conversations/${p}`, token: B.ADMIN_TOKEN, statuses: [404], mayWrite: [] },
  { method: "GET", path: (_, q) => `/admin/dead-letters${q}`, token: B.ADMIN_TOKEN, statuses: [200, 400], mayWrite: [] },
  { method: "POST", path: (p) => `/admin/dead-letters/${p}/retry`, token: B.ADMIN_TOKEN, statuses: [400, 404], mayWrite: [] },
  { method: "GET", path: (p) => `/admin/opt-outs/${p}`, token: B.ADMIN_TOKEN, statuses: [200, 400], mayWrite: [] },
  { method: "DELETE", path: (p, q) => `/admin/opt-outs/${p}${q}`, token: B.ADMIN_TOKEN, statuses: [200, 400], mayWrite: ["opt_outs"] },
  { method: "GET", path: (p) => `/admin/senders/${p}`, token: B.ADMIN_TOKEN, statuses: [200, 400], mayWrite: [] },
  { method: "GET", path: (p) => `/v1/proactive/batches/${p}`, token: B.API_TOKEN, statuses: [404], mayWrite: [] },
];

/** Every admin route (SPEC §3), for the token check. */
export const ADMIN_ROUTES: [string, (param: string) => string][] = [
  ...PARAM_ROUTES.filter((r) => r.token === B.ADMIN_TOKEN).map((r): [string, (p: string) => string] => [r.method, (p) => r.path(p, "")]),
  ["PUT", (p) => `/admin/opt-outs/${p}`],
  ["POST", () => "/admin/reconcile"],
  ["GET", (p) => `/admin/${p}`],
  ["GET", () => "/admin"],
];
