import fc from "fast-check";
import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { sha256Hex } from "../../src/crypto";
import { TWILIO_STATUSES } from "../../src/domain/status";
import { TEST_BINDINGS as B } from "../support/bindings";
import { anyText, asJson, drop, e164, formText, formType, headerText, notAString, notE164, notMatching, query, sid, tooLong, validPairs, type Pairs, type Template } from "./arbitraries";

export const BASE = B.PUBLIC_BASE_URL;
export const TOKEN = B.TWILIO_AUTH_TOKEN;
export const ROUTES = ["/twilio/inbound", "/twilio/status"] as const;
export type Route = (typeof ROUTES)[number];
export const route = fc.constantFrom(...ROUTES);
export const otherRoute = (r: Route): Route => (r === "/twilio/inbound" ? "/twilio/status" : "/twilio/inbound");
/** Every field either webhook reads, as keys for random bodies. */
export const FIELDS = ["MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "NumSegments", "MessagingServiceSid", "OptOutType", "MessageStatus", "ErrorCode"];

const messageSid = fc.oneof(drop, notMatching(/^(SM|MM)[0-9a-fA-F]{32}$/, ["SM123", `SM${"g".repeat(32)}`, `XX${"0".repeat(32)}`, `SM${"0".repeat(33)}`]));
const otherAccount = fc.oneof(drop, sid("AC"), anyText()).filter((v) => v !== B.TWILIO_ACCOUNT_SID);
// "received" and friends are valid statuses the bridge ignores (200): not a way to break a callback.
const STATUSES = new Set<string>([...TWILIO_STATUSES, "receiving", "received", "partially_delivered"]);

/** Form fields of a webhook the bridge accepts, and per field values it must refuse. */
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
      AccountSid: otherAccount,
      From: fc.oneof(drop, notE164),
      To: fc.oneof(drop, notE164),
      Body: tooLong(1600),
      NumMedia: fc.constantFrom("lots", "-1", "11", "1.5", "NaN"),
      NumSegments: fc.constantFrom("0", "51", "x"),
    },
  },
  "/twilio/status": {
    valid: { MessageSid: sid("SM"), AccountSid: fc.constant(B.TWILIO_ACCOUNT_SID), MessageStatus: fc.constantFrom(...TWILIO_STATUSES), ErrorCode: fc.constantFrom("30003", "0") },
    breakers: {
      MessageSid: messageSid,
      AccountSid: otherAccount,
      MessageStatus: fc.oneof(drop, fc.constantFrom("DELIVERED", "delivered ", "deliver", "", "__proto__"), anyText()).filter((s) => s === undefined || !STATUSES.has(s)),
      ErrorCode: fc.constantFrom("", "x", "1234567", "-1", "1.0"),
    },
  },
};

// JSON carries types a form cannot; the bridge stringifies numbers and booleans and drops objects.
const typed = { MessageSid: notAString, AccountSid: notAString, From: notAString, To: notAString, MessageStatus: notAString };
export const JSON_TEMPLATES: Record<Route, Template> = {
  "/twilio/inbound": asJson(TEMPLATES["/twilio/inbound"], typed),
  "/twilio/status": asJson(TEMPLATES["/twilio/status"], typed),
};

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
