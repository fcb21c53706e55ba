import fc from "fast-check";
import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { sha256Hex } from "../../src/crypto";
import { TWILIO_STATUSES } from "../../src/domain/status";
import { TEST_BINDINGS as B } from "../support/bindings";
import { anyText, asJson, digits, e164, formText, formType, headerText, notAString, notE164, notMatching, query, sid, tooLong, validPairs, type Pairs, type Template } from "./arbitraries";

export const BASE = B.PUBLIC_BASE_URL;
export const TOKEN = B.TWILIO_AUTH_TOKEN;
export const ROUTES = ["/twilio/inbound", "/twilio/status"] as const;
export type Route = (typeof ROUTES)[number];
export const route = fc.constantFrom(...ROUTES);
export const otherRoute = (r: Route): Route => (r === "/twilio/inbound" ? "/twilio/status" : "/twilio/inbound");
/** Every field Twilio posts to either webhook, as keys for random bodies. */
export const FIELDS = [
  "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To", "Body", "NumMedia", "NumSegments", "MediaUrl0",
  "MediaContentType0", "OptOutType", "FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry", "SmsStatus",
  "ApiVersion", "MessageStatus", "ErrorCode",
];

/** Far over any field's size, still well under the 64 KB request limit alone. */
const oversized = fc.constantFrom("x".repeat(5_000), "é".repeat(2_500), "9".repeat(5_000));
const blank = fc.constantFrom(undefined, "");
const messageSid = fc.oneof(
  blank,
  sid("SM"),
  sid("MM"),
  oversized,
  notMatching(/^(SM|MM)[0-9a-fA-F]{32}$/, ["SM123", `SM${"g".repeat(32)}`, `XX${"0".repeat(32)}`, `SM${"0".repeat(33)}`, `MG${"0".repeat(32)}`]),
);
const account = fc.oneof(blank, fc.constant(B.TWILIO_ACCOUNT_SID), fc.constant(B.TWILIO_ACCOUNT_SID.toUpperCase()), sid("AC"), anyText(), oversized);
/** Customers: E.164 with 7 digits too (+290 …); the rest never is. */
const customer = fc.oneof(blank, e164, fc.constantFrom("+2901234", "+123456"), notE164, oversized);
/** The business side: E.164 or a short code (3–8 digits), and near misses of both. */
const business = fc.oneof(blank, fc.constant(B.TWILIO_FROM_NUMBER), digits(1, 12), notE164, oversized);
/** A field the bridge does not read, or reads only as a hint: anything goes. */
const anything = fc.oneof(blank, anyText(), oversized);
const statuses = fc.constantFrom(...TWILIO_STATUSES, "receiving", "received", "partially_delivered");

/**
 * A webhook the bridge takes (`valid`), and per field values of every kind — empty, missing,
 * oversized, of the wrong shape, and valid ones too (`breakers`, as `broken` calls them): under
 * contract §3 only MessageSid/From/To (inbound), MessageSid (status) and AccountSid can get a signed
 * webhook refused, so what a generated form must get is worked out by `expectedStatus`.
 */
export const TEMPLATES: Record<Route, Template> = {
  "/twilio/inbound": {
    valid: {
      MessageSid: sid("SM"),
      AccountSid: fc.constant(B.TWILIO_ACCOUNT_SID),
      From: e164,
      To: fc.constant(B.TWILIO_FROM_NUMBER),
      Body: anyText(),
      NumMedia: fc.constant("0"),
      NumSegments: fc.constant("1"),
    },
    breakers: {
      MessageSid: messageSid,
      AccountSid: account,
      From: customer,
      To: business,
      Body: fc.oneof(anything, tooLong(1600)),
      NumMedia: fc.oneof(blank, fc.constantFrom("0", "1", "10", "lots", "-1", "11", "1.5", "NaN"), oversized),
      NumSegments: fc.oneof(blank, fc.constantFrom("1", "2", "0", "51", "x", "-1"), oversized),
      MediaUrl0: fc.oneof(blank, fc.constantFrom("https://media.example.com/a.jpg", "javascript:alert(1)", "ftp://x.test/a"), anyText(), oversized),
      MediaContentType0: fc.oneof(anything, fc.constant("image/jpeg")),
      MessagingServiceSid: fc.oneof(anything, sid("MG"), fc.constantFrom("XX", `MG${"0".repeat(33)}`)),
      OptOutType: fc.oneof(anything, fc.constantFrom("STOP", "START", "HELP", "stop", "MAYBE")),
      ...Object.fromEntries(["SmsSid", "SmsMessageSid", "FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry", "SmsStatus", "ApiVersion"].map((f) => [f, anything])),
    },
  },
  "/twilio/status": {
    valid: { MessageSid: sid("SM"), AccountSid: fc.constant(B.TWILIO_ACCOUNT_SID), MessageStatus: fc.constantFrom(...TWILIO_STATUSES), ErrorCode: fc.constantFrom("30003", "0") },
    breakers: {
      MessageSid: messageSid,
      AccountSid: account,
      MessageStatus: fc.oneof(blank, statuses, fc.constantFrom("DELIVERED", "delivered ", "deliver", "__proto__"), anyText(), oversized),
      ErrorCode: fc.oneof(blank, fc.constantFrom("30003", "x", "1234567", "-1", "1.0"), oversized),
      ...Object.fromEntries(["SmsSid", "SmsStatus", "To", "From", "MessagingServiceSid", "ApiVersion"].map((f) => [f, anything])),
    },
  },
};

// JSON carries types a form cannot; the bridge stringifies numbers and booleans and drops objects.
const typed = { MessageSid: notAString, AccountSid: notAString, From: notAString, To: notAString, MessageStatus: notAString, Body: notAString, NumMedia: notAString };
export const JSON_TEMPLATES: Record<Route, Template> = {
  "/twilio/inbound": asJson(TEMPLATES["/twilio/inbound"], typed),
  "/twilio/status": asJson(TEMPLATES["/twilio/status"], typed),
};

/** The fields of a webhook as the bridge reads them: name → every value given. */
export type Values = (name: string) => readonly string[];

const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
/** Empty means absent (contract §3): the one non-empty value, if there is exactly one. */
export const single = (values: readonly string[]) => {
  const present = values.filter((v) => v !== "");
  return present.length === 1 ? present[0] : undefined;
};

/**
 * contract §3, for a correctly signed webhook: 403 unless AccountSid is exactly ours (once); else 400
 * when MessageSid (and, inbound, From — E.164 — and To — E.164 or a short code) is missing,
 * repeated or malformed; else 200, whatever the other fields hold.
 */
export function verdict(r: Route, values: Values): 200 | 400 | 403 {
  const accountSid = values("AccountSid");
  if (accountSid.length !== 1 || accountSid[0] !== B.TWILIO_ACCOUNT_SID) return 403;
  const ok = (name: string, rule: (v: string) => boolean) => {
    const v = single(values(name));
    return v !== undefined && rule(v);
  };
  if (!ok("MessageSid", (v) => SID.test(v))) return 400;
  if (r === "/twilio/inbound" && !(ok("From", (v) => E164.test(v)) && ok("To", (v) => E164.test(v) || SHORT_CODE.test(v)))) return 400;
  return 200;
}

/** What a signed form body must get: 413 over the 64 KB limit, else the verdict on its fields. */
export function formStatus(r: Route, raw: string): 200 | 400 | 403 | 413 {
  if (new TextEncoder().encode(raw).length > 64 * 1024) return 413;
  return verdict(r, formValues(raw));
}

/**
 * What a JSON body under a matching bodySHA256 must get: 400 unless it is a JSON object, else the
 * verdict on its fields as the bridge reads JSON (strings as they are, numbers and booleans as
 * text, arrays of strings as repeated values; anything else is no value). AccountSid must be the
 * string itself.
 */
export function jsonStatus(r: Route, raw: string): 200 | 400 | 403 | 413 {
  if (new TextEncoder().encode(raw).length > 64 * 1024) return 413;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 400;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return 400;
  const account = (parsed as Record<string, unknown>).AccountSid;
  if (!Object.hasOwn(parsed, "AccountSid") || typeof account !== "string" || account !== B.TWILIO_ACCOUNT_SID) return 403;
  return verdict(r, jsonValues(parsed));
}

/** The fields of a parsed JSON object as the bridge reads them (see jsonStatus). */
export function jsonValues(parsed: object): Values {
  const fields = new Map<string, unknown>(Object.entries(parsed));
  return (name) => {
    const v = fields.get(name);
    if (typeof v === "string") return [v];
    if (typeof v === "number" || typeof v === "boolean") return [String(v)];
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    return [];
  };
}

/** The fields of a form body, every value of a repeated name. */
export function formValues(raw: string): Values {
  const form = new URLSearchParams(raw);
  return (name) => form.getAll(name);
}

/**
 * Gives every MessageSid-shaped value a fresh SID of the same shape, so that no generated webhook
 * (fast-check likes "SM000…0") repeats one an earlier run already stored: a repeat is a duplicate,
 * another subject. Works on form and JSON text alike.
 */
export function freshSids(raw: string): string {
  const seen = new Map<string, string>();
  return raw.replace(/(SM|MM)[0-9a-fA-F]{32}/g, (old, prefix: string) => {
    let next = seen.get(old);
    if (!next) {
      next = prefix + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
      seen.set(old, next);
    }
    return next;
  });
}

export const signForm = (token: string, url: string, raw: string) => signRequest(token, url, parseForm(raw));
/** A JSON webhook is signed over its URL alone, which carries the body's hash (no fields). */
export const signJson = (token: string, url: string) => signRequest(token, url, new Map());
export const jsonPath = async (r: Route, hashOf: string) => `${r}?bodySHA256=${await sha256Hex(hashOf)}`;

/** The URL the bridge checks: PUBLIC_BASE_URL + path + query as the Worker's URL parser left them. */
export function seenUrl(pathAndQuery: string): string {
  const url = new URL(`${BASE}${pathAndQuery}`);
  return `${BASE}${url.pathname}${url.search}`;
}

export interface Replay {
  why: string;
  type: string;
  body: string;
  /** Where it is sent and the signature it carries (hashing and signing are async). */
  prepare: () => Promise<{ path: string; signature: string }>;
}

/**
 * Signatures Twilio really made — for another body, URL, token or body hash — on a webhook that
 * would be accepted with its own signature. Each differs from the request in what is signed by
 * construction, never by luck (shrinking would otherwise walk toward equal values).
 */
export const replays: fc.Arbitrary<Replay> = route.chain((r) => {
  const fields = validPairs(TEMPLATES[r]);
  const form = (why: string, mine: Pairs, type: string, token: string, url: string, signed: string, path: string = r): Replay => ({
    why,
    type,
    body: formText(mine),
    prepare: async () => ({ path, signature: await signForm(token, url, signed) }),
  });
  const differ = (a: Pairs, b: Pairs) => formText(a) !== formText(b);
  const keys = new Set(Object.keys(TEMPLATES[r].valid));
  const json = (pairs: Pairs) => JSON.stringify(Object.fromEntries(pairs));
  return fc.oneof(
    fc.tuple(fields, fields, formType).filter(([a, b]) => differ(a, b)).map(([mine, theirs, type]) => form("another message", mine, type, TOKEN, `${BASE}${r}`, formText(theirs))),
    fc
      .tuple(fields, fc.nat(), anyText(), formType)
      .map(([mine, i, value, type]): [Pairs, Pairs, string] => [mine, mine.map(([k, v], j) => [k, j === i % mine.length ? value : v]), type])
      .filter(([a, b]) => differ(a, b))
      .map(([mine, theirs, type]) => form("one value changed", mine, type, TOKEN, `${BASE}${r}`, formText(theirs))),
    fc
      .tuple(fields, anyText(10).filter((k) => k !== "" && !keys.has(k)), anyText(), formType)
      .map(([mine, key, value, type]) => form("a field the signature did not cover", [...mine, [key, value]], type, TOKEN, `${BASE}${r}`, formText(mine))),
    fc.tuple(fields, fc.nat(), formType).map(([mine, i, type]) => form("a signed field left out", mine.filter((_, j) => j !== i % mine.length), type, TOKEN, `${BASE}${r}`, formText(mine))),
    fc
      .tuple(fields, fc.constantFrom(`${BASE}${otherRoute(r)}`, `${BASE}${r}/`, `${BASE}${r}?tenant=acme`, `https://evil.test${r}`, `http://bridge.test${r}`, `${BASE}:8443${r}`, `${BASE}${r.toUpperCase()}`), formType)
      .map(([mine, url, type]) => form(`signed for ${url}`, mine, type, TOKEN, url, formText(mine))),
    fc
      .tuple(fields, query.filter((q) => q !== ""), formType)
      .map(([mine, q, type]) => form("a query the signature did not cover", mine, type, TOKEN, `${BASE}${r}`, formText(mine), `${r}${q}`)),
    fc
      .tuple(fields, headerText.filter((t) => t !== "" && t !== TOKEN), formType)
      .map(([mine, token, type]) => form("signed with another auth token", mine, type, token, `${BASE}${r}`, formText(mine))),
    fc
      .tuple(fields, fields, fc.constantFrom("hash", "signature", "token"), fc.constantFrom("application/json", "application/json; charset=utf-8"))
      .filter(([a, b]) => json(a) !== json(b))
      .map(([mine, theirs, what, type]): Replay => {
        const [body, their] = [json(mine), json(theirs)];
        // hash: URL hash and signature both for their body; signature: the hash fits, the signature is theirs; token: all fits but the key.
        const [hashed, signed, token] = what === "hash" ? [their, their, TOKEN] : what === "signature" ? [body, their, TOKEN] : [body, body, `${TOKEN}-old`];
        return {
          why: `JSON, ${what} for another body`,
          type,
          body,
          prepare: async () => ({ path: await jsonPath(r, hashed), signature: await signJson(token, `${BASE}${await jsonPath(r, signed)}`) }),
        };
      }),
  );
});
