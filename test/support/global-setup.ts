import twilio from "twilio";
import type { TestProject } from "vitest/node";
import { TEST_BINDINGS } from "./bindings";

/**
 * Runs in Node before the workerd tests: Twilio's own `twilio` package signs a table of inbound
 * webhooks, and the tests inside workerd must accept every one of them (and refuse them once
 * tampered with). The bridge's signature code is thereby checked against code nobody here wrote.
 */
export interface SignedFixture {
  name: string;
  /** Path and query the request is sent to (the bridge prefixes PUBLIC_BASE_URL). */
  pathAndQuery: string;
  contentType: string;
  rawBody: string;
  signature: string;
}

const base = TEST_BINDINGS.PUBLIC_BASE_URL;
const token = TEST_BINDINGS.TWILIO_AUTH_TOKEN;
let counter = 0;
const sid = () => `SM${(++counter).toString(16).padStart(32, "0")}`;

function form(fields: [string, string][]): string {
  return fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** Twilio signs the parsed fields (a repeated name as an array), as its webhook code reads them. */
function asParams(fields: [string, string][]): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of fields) {
    const prev = params[k];
    params[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return params;
}

function inboundFields(extra: [string, string][] = [], body = "Hello from a phone", numMedia = "0"): [string, string][] {
  return [
    ["MessageSid", sid()],
    ["AccountSid", TEST_BINDINGS.TWILIO_ACCOUNT_SID],
    ["From", `+1415555${String(1000 + counter).slice(-4)}`],
    ["To", "+15550001000"],
    ["Body", body],
    ["NumMedia", numMedia],
    ["NumSegments", "1"],
    ["ApiVersion", "2010-04-01"],
    ...extra,
  ];
}

function signedForm(name: string, fields: [string, string][], signedUrl: string, pathAndQuery: string): SignedFixture {
  return {
    name,
    pathAndQuery,
    contentType: "application/x-www-form-urlencoded",
    rawBody: form(fields),
    signature: twilio.getExpectedTwilioSignature(token, signedUrl, asParams(fields)),
  };
}

export function buildFixtures(): SignedFixture[] {
  const path = "/twilio/inbound";
  const fixtures: SignedFixture[] = [
    signedForm("plain ASCII body", inboundFields(), `${base}${path}`, path),
    signedForm("unicode body (emoji, accents, CJK)", inboundFields([], "Olá ☕️ — 你好 👋🏽 ñ"), `${base}${path}`, path),
    signedForm("characters that urlencoding must carry: + & = % newline", inboundFields([], "a+b & c=d 100% \n next line"), `${base}${path}`, path),
    signedForm("a repeated field name", inboundFields([["Tag", "b-second"], ["Tag", "a-first"]]), `${base}${path}`, path),
    signedForm(
      "empty body with media",
      inboundFields([["MediaUrl0", "https://media.example.com/a.jpg"], ["MediaContentType0", "image/jpeg"]], "", "1"),
      `${base}${path}`,
      path,
    ),
    signedForm("URL with a query string", inboundFields(), `${base}${path}?tenant=acme&region=us%20east`, `${path}?tenant=acme&region=us%20east`),
    signedForm("signed with the default port in the URL", inboundFields(), `${base.replace(/^https:\/\/([^/]+)/, "https://$1:443")}${path}`, path),
  ];
  // JSON body, signed the way Twilio signs JSON webhooks: bodySHA256 in the query, no fields.
  const json = JSON.stringify(Object.fromEntries(inboundFields()));
  const hash = twilio.getExpectedBodyHash(json);
  const jsonPath = `${path}?bodySHA256=${hash}`;
  fixtures.push({
    name: "JSON body signed through bodySHA256",
    pathAndQuery: jsonPath,
    contentType: "application/json",
    rawBody: json,
    signature: twilio.getExpectedTwilioSignature(token, `${base}${jsonPath}`, {}),
  });
  // Sanity: the library itself accepts what it signed (guards the fixture builder, not the bridge).
  for (const f of fixtures) {
    const url = `${base}${f.pathAndQuery}`;
    const ok =
      f.contentType === "application/json"
        ? twilio.validateRequestWithBody(token, f.signature, url, f.rawBody)
        : twilio.validateRequest(token, f.signature, url, asParams([...new URLSearchParams(f.rawBody)] as [string, string][]));
    if (!ok) throw new Error(`fixture "${f.name}" does not validate with the twilio package`);
  }
  return fixtures;
}

export default function setup(project: TestProject) {
  project.provide("twilioFixtures", buildFixtures());
}

declare module "vitest" {
  export interface ProvidedContext {
    twilioFixtures: SignedFixture[];
  }
}
